from django.core.management.base import BaseCommand, CommandError

from plan.models import PlanVersion
from plan.services import export_version


class Command(BaseCommand):
    help = "Print the active (or given) plan version as YAML that loadplan accepts unchanged."
    # The interface fixes `--version N`; Django's own --version (print Django's) gives way.

    def add_base_argument(self, parser, *args, **kwargs):
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", dest="number", type=int, help="plan version number (default: the active one)")

    def handle(self, *args, number, **options):
        try:
            version = PlanVersion.objects.get(number=number) if number else PlanVersion.objects.active()
        except PlanVersion.DoesNotExist:
            raise CommandError(f"no plan version {number}" if number else "no plan is active: run loadplan first") from None
        self.stdout.write(export_version(version), ending="")
