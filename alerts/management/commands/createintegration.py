from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from alerts.models import LEVEL_KEYS, Kind
from alerts.integrations import integration_create


class Command(BaseCommand):
    help = "Create a monitoring integration and print its token once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=[k.value for k in Kind])
        parser.add_argument("--category", default="system", help="category key for alerts that name none")
        parser.add_argument("--level", default="blue", choices=LEVEL_KEYS, help="level for alerts that give none")
        parser.add_argument("--rate", type=int, default=None, help="requests per minute (default 6000)")

    def handle(self, *args, name, kind, category, level, rate, **options):
        try:
            integration, token = integration_create(name=name, kind=kind, default_category=category,
                                                    default_level=level, rate_limit_per_minute=rate)
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        self.stdout.write(f"Integration {integration.name!r} ({integration.get_kind_display()}) created. "
                          f"The token is shown only now; store it in the monitoring system as "
                          f"Authorization: Bearer <token>.")
        self.stdout.write(token)
