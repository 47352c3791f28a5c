from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from people.services import StaffFileError, import_staff, read_staff_csv
from plan.models import PlanVersion


class Command(BaseCommand):
    help = "Create or update people from a CSV with the header username,full_name,email,phone,roles (roles separated by ;)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text; save the CSV as UTF-8") from None
        try:
            version = PlanVersion.objects.active()
        except PlanVersion.DoesNotExist:
            raise CommandError("no plan is active: run loadplan first, so role keys can be checked") from None
        known = set(version.roles.values_list("key", flat=True))
        try:
            rows = read_staff_csv(text, known_roles=known)
        except StaffFileError as exc:
            lines = [f"{file}: {len(exc.errors)} problem(s), nothing was changed:"] + [f"  {e}" for e in exc.errors]
            raise CommandError("\n".join(lines)) from None
        result = import_staff(rows)
        self.stdout.write(self.style.SUCCESS(
            f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged."
        ))
