from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from external.directory import PARTY_HEADER, PartyFileError, import_parties, read_parties_csv


class Command(BaseCommand):
    help = (f"Create or update outside parties and their contacts from a CSV with the header {','.join(PARTY_HEADER)} "
            "(one row per contact; categories separated by ;).")

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
            parties = read_parties_csv(text)
        except PartyFileError as exc:
            lines = [f"{file}: {len(exc.errors)} problem(s), nothing was changed:"] + [f"  {e}" for e in exc.errors]
            raise CommandError("\n".join(lines)) from None
        result = import_parties(parties)
        self.stdout.write(self.style.SUCCESS(
            f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged."
        ))
