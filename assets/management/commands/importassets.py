from django.core.management.base import BaseCommand

from core.csv_commands import counted, read_csv_text, refused
from django.utils import translation

from assets.services import AssetFileError, assets_import, read_assets_csv
from plan.models import PlanVersion


class Command(BaseCommand):
    help = ("Create or update assets from a CSV with the header tag,name,kind,category,core,location,owner_role "
            "(optionally followed by vendor,support_contract); idempotent by tag.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        text = read_csv_text(file)
        version = PlanVersion.objects.filter(is_active=True).first()
        # Owner roles are checked against the active plan when there is one.
        known = set(version.roles.values_list("key", flat=True)) if version else None
        with translation.override("en"):
            try:
                rows = read_assets_csv(text, known_roles=known)
            except AssetFileError as exc:
                raise refused(file, exc.errors) from None
        result = assets_import(rows)
        self.stdout.write(self.style.SUCCESS(counted(result)))
