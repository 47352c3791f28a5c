from django.core.management.base import BaseCommand, CommandError

from core.csv_commands import counted, read_csv_text, refused

from people.services import StaffFileError, import_staff, read_staff_csv
from plan.models import PlanVersion


class Command(BaseCommand):
    help = "Create or update people from a CSV with the header username,full_name,email,phone,roles (roles separated by ;)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        text = read_csv_text(file)
        try:
            version = PlanVersion.objects.active()
        except PlanVersion.DoesNotExist:
            raise CommandError("no plan is active: run loadplan first, so role keys can be checked") from None
        known = set(version.roles.values_list("key", flat=True))
        try:
            rows = read_staff_csv(text, known_roles=known)
        except StaffFileError as exc:
            raise refused(file, exc.errors) from None
        result = import_staff(rows)
        self.stdout.write(self.style.SUCCESS(counted(result)))
