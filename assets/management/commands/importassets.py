from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assets.services import AssetFileError, assets_import, read_assets_csv
from plan.models import PlanVersion


class Command(BaseCommand):
    help = ("Create or update assets from a CSV with the header tag,name,kind,category,core,location,owner_role "
            "(optionally followed by vendor,support_contract); idempotent by tag.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text; save the CSV as UTF-8") from None
        version = PlanVersion.objects.filter(is_active=True).first()
        # Owner roles are checked against the active plan when there is one.
        known = set(version.roles.values_list("key", flat=True)) if version else None
        with translation.override("en"):
            try:
                rows = read_assets_csv(text, known_roles=known)
            except AssetFileError as exc:
                lines = [f"{file}: {len(exc.errors)} problem(s), nothing was changed:"] + [f"  {e}" for e in exc.errors]
                raise CommandError("\n".join(lines)) from None
        result = assets_import(rows)
        self.stdout.write(self.style.SUCCESS(
            f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged."
        ))
