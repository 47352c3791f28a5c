from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from core.throttles import count_anonymous

from .models import ApiToken, hash_token


def speak_their_language(request, person):
    """The person's chosen language, as PersonLanguageMiddleware gives a signed-in browser.

    A token is only read here, inside the API view, after the middleware chose the
    caller's Accept-Language; without a choice on the person, that stays.
    """
    if person.language:
        translation.activate(person.language)
        request._request.LANGUAGE_CODE = translation.get_language()


class PersonalTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <secret>``: looked up by its hash, never stored in clear."""

    keyword = "Token"

    def authenticate(self, request):
        try:
            authenticated = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            # A wrong token spends the caller's anonymous budget: guessing ends in 429, not endless 401s.
            count_anonymous(request)
            raise
        if authenticated is not None:
            speak_their_language(request, authenticated[0])
        return authenticated

    def authenticate_credentials(self, key):
        token = ApiToken.objects.usable().select_related("person").filter(key_hash=hash_token(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if not token.person.is_active:
            raise exceptions.AuthenticationFailed(_("This person's account is disabled."))
        # One cheap UPDATE a minute at most, so auditors can see a token is in use.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.person, token
