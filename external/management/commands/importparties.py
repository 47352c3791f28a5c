from django.core.management.base import BaseCommand

from core.csv_commands import counted, read_csv_text, refused

from external.directory import PARTY_HEADER, PartyFileError, import_parties, read_parties_csv


class Command(BaseCommand):
    help = (f"Create or update outside parties and their contacts from a CSV with the header {','.join(PARTY_HEADER)} "
            "(one row per contact; categories separated by ;).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        text = read_csv_text(file)
        try:
            parties = read_parties_csv(text)
        except PartyFileError as exc:
            raise refused(file, exc.errors) from None
        result = import_parties(parties)
        self.stdout.write(self.style.SUCCESS(counted(result)))
