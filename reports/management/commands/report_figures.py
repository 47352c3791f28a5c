"""``manage.py report_figures``: write the figures rows of resolved incidents that have none (after an upgrade,
or history loaded in bulk); ``--all`` rewrites every one; ``--stale`` runs the sweep (``figures_refresh``)."""

from django.core.management.base import BaseCommand

from reports.figures import figures_backfill, figures_refresh


class Command(BaseCommand):
    help = "Write the report figures of resolved incidents that have none (--all: rewrite them all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="rewrite every resolved incident's figures")
        parser.add_argument("--stale", action="store_true",
                            help="rewrite the recent ones something changed since, and the missing ones")

    def handle(self, *args, **options):
        if options["stale"]:
            written = figures_refresh()
        else:
            written = figures_backfill(everything=options["all"])
        self.stdout.write(f"figures written for {written} incidents")
