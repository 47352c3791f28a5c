from django.core.management.base import BaseCommand, CommandError

from people.models import ApiToken, Person


class Command(BaseCommand):
    help = "Print a new personal API token for a person, alone on the last line (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token, e.g. the script that uses it")

    def handle(self, *args, username, name, **options):
        try:
            person = Person.objects.get(username=username)
        except Person.DoesNotExist:
            raise CommandError(f"no person with username {username!r}") from None
        if not person.is_active:
            raise CommandError(f"{username!r} is disabled; enable the account first")
        _token, secret = ApiToken.issue(person, name=name, reason="manage.py issuetoken")
        self.stdout.write("Token created. It is shown only now; store it safely. Use it as: Authorization: Token <token>")
        self.stdout.write(secret)
