from django.utils import translation


class PersonLanguageMiddleware:
    """A signed-in person's chosen language wins over the browser's Accept-Language.

    Sits after AuthenticationMiddleware; LocaleMiddleware has already picked the
    browser's language for everyone else.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
