from django.core.management.base import BaseCommand
from django.db import transaction

from people.models import Person, RoleAssignment

DEMO_PASSWORD = "fenghuo-demo"
# Every demo person gets an address so that trying Fenghuo out shows messages going out: ./scripts/run.sh's
# console email backend prints them in the worker's log. example is reserved (RFC 2606): nothing is ever
# delivered there, even with a real SMTP server configured. No phone: SMS needs a gateway run.sh has not.
DEMO_EMAIL_DOMAIN = "demo.fenghuo.example"
DEMO_PEOPLE = [
    # username, full name, roles, is_superuser
    ("duty", "值班员 王班", ["duty_staff"], False),
    ("tech", "技术员 李工", ["system_technicians", "network_maintainer", "tech_group"], False),
    ("supervisor", "运维主管 赵主管", ["ops_supervisor", "maintenance_supervisor", "maintenance_coordinator"], False),
    ("office", "应急办 陈主任", ["office"], False),
    ("leader", "领导小组 周组长", ["leadership"], False),
    ("chief", "主要领导 吴总", ["main_leaders"], False),
    ("admin", "系统管理员", ["office"], True),
]


class Command(BaseCommand):
    help = "Create the demo people (idempotent) and print their logins. For trying Fenghuo out, not production."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for username, full_name, roles, superuser in DEMO_PEOPLE:
            email = f"{username}@{DEMO_EMAIL_DOMAIN}"
            person, was_created = Person.objects.get_or_create(
                username=username,
                defaults={"full_name": full_name, "email": email, "is_staff": superuser, "is_superuser": superuser},
            )
            if was_created:
                person.set_password(DEMO_PASSWORD)
                person.save()
                created += 1
            elif not person.email:
                # Demo people made before they had addresses; an address someone set since is theirs to keep.
                person.email = email
                person.save(update_fields=["email"])
            for key in roles:
                RoleAssignment.objects.get_or_create(person=person, role_key=key)
        self.stdout.write(f"Demo people: {created} created, {len(DEMO_PEOPLE) - created} already there.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}; under ./scripts/run.sh the mail they are "
                          "sent is printed in the worker's log):")
        for username, full_name, roles, _superuser in DEMO_PEOPLE:
            self.stdout.write(f"  {username:<11} {full_name}  <{username}@{DEMO_EMAIL_DOMAIN}>  [{', '.join(roles)}]")
