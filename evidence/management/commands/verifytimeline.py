from django.core.management.base import BaseCommand, CommandError

from incidents.models import Incident
from incidents import chain


class Command(BaseCommand):
    help = ("Recompute every incident's timeline hash chain (or one incident's). Exit 0 when every chain is "
            "intact; otherwise exit 1 naming, per broken chain, the first entry that does not match.")

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, metavar="N", help="check only incident N")

    def handle(self, *args, incident=None, **options):
        if incident is not None and not Incident.objects.filter(pk=incident).exists():
            raise CommandError(f"no incident {incident}")
        checked, broken = 0, []
        for state in chain.verify_all([incident] if incident is not None else None):
            checked += 1
            if state.first_break is not None:
                broken.append(state.first_break)
                self.stderr.write(f"BROKEN {state.first_break.describe()}")
            elif options["verbosity"] > 1:
                self.stdout.write(f"incident {state.incident_id}: {state.entries} entries, last {state.last_hash}")
        if broken:
            raise CommandError(f"{len(broken)} of {checked} timeline chains do not verify; the first entry that "
                               f"does not match: {broken[0].describe()}")
        self.stdout.write(f"{checked} timeline chains verified")
