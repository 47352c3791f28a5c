from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from evidence.formats import FORMATS
from incidents.models import Incident


class Command(BaseCommand):
    help = ("Write one incident's evidence pack (PDF or Word) to a file; print its SHA-256 alone on the last line. "
            "The pack is in --language (default: the site's language).")

    def add_arguments(self, parser):
        parser.add_argument("incident", type=int, metavar="ID")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), dest="file_format")
        parser.add_argument("--output", required=True, metavar="FILE", help="where to write the pack ('-' is refused)")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE,
                            choices=[code for code, _name in settings.LANGUAGES])

    def handle(self, *args, incident, file_format, output, language, **options):
        from evidence import pack

        found = Incident.objects.filter(pk=incident).first()
        if found is None:
            raise CommandError(f"no incident {incident}")
        target = Path(output)
        if output == "-" or target.is_dir():
            raise CommandError(f"--output must name a file, not {output!r}")
        if not target.parent.exists():
            raise CommandError(f"the folder {target.parent} does not exist")
        with translation.override(language):
            exported = pack.export(found, file_format=file_format, generated_by="manage.py exportincident")
        target.write_bytes(exported.data)
        self.stdout.write(f"Wrote incident {incident}'s evidence pack ({file_format}, {language}, "
                          f"{len(exported.data)} bytes) to {target}; content digest {exported.content_digest}")
        self.stdout.write(exported.sha256)
