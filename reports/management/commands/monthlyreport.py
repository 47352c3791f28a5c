"""python manage.py monthlyreport YYYY-MM --format pdf|docx --output FILE [--language zh-hans|en]"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.documents import sha256_hex
from reports.filters import month_filter
from reports.monthly import FORMATS, render


class Command(BaseCommand):
    help = "Write the monthly leadership report for a month (PDF or DOCX, Chinese or English)."

    def add_arguments(self, parser):
        parser.add_argument("month", help="the month, YYYY-MM")
        parser.add_argument("--format", choices=FORMATS, default="pdf")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default=settings.LANGUAGE_CODE)

    def handle(self, *args, **options):
        try:
            month_filter(options["month"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.message_dict["month"])) from None
        data = render(options["month"], fmt=options["format"], language=options["language"])
        Path(options["output"]).write_bytes(data)
        self.stdout.write(f"{options['output']}: {len(data)} bytes")
        self.stdout.write(sha256_hex(data))
