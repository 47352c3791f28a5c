import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plan.document import PlanFileError
from plan.models import VersionOrigin
from plan.services import load_plan_text


class Command(BaseCommand):
    help = "Check a plan file (YAML or JSON, format 1), store it as a new plan version and make it active."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the plan file")
        parser.add_argument("--check", action="store_true", help="only check the file; store nothing")
        parser.add_argument("--if-changed", action="store_true",
                            help="do nothing when the active version was loaded from an identical file")
        parser.add_argument("--by", metavar="USERNAME",
                            help="record this person as the one who proposed and approved the plan")
        parser.add_argument("--reason", default="", help="why the plan changes (kept with the version)")

    def handle(self, *args, file, check, if_changed, by=None, reason="", **options):
        path = Path(file)
        loaded_by = None
        if by:
            from django.contrib.auth import get_user_model

            loaded_by = get_user_model().objects.filter(username=by).first()
            if loaded_by is None:
                raise CommandError(f"--by: no person with username {by!r}")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise CommandError(f"{file}: cannot read it ({exc.strerror})") from None
        try:
            if check:
                from plan.document import check_document, parse_text

                check_document(parse_text(text))
                self.stdout.write(self.style.SUCCESS(f"{file}: the plan is valid"))
                return
            if if_changed:
                from plan.services import active_version_if_same_source

                current = active_version_if_same_source(text)
                if current is not None:
                    self.stdout.write(f"{file}: unchanged, version {current.number} stays active")
                    return
            why = f"loaded from the shell, file {path}" + (f": {reason}" if reason else "")
            version = load_plan_text(text, source=str(path), loaded_by=loaded_by, origin=VersionOrigin.SHELL,
                                     operator=_shell_account(), reason=why)
        except PlanFileError as exc:
            lines = [f"{file}: {len(exc.errors)} problem(s), nothing was stored:"]
            lines += [f"  {error}" for error in exc.errors]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(self.style.SUCCESS(f"Loaded {file} as plan version {version.number} (active)."))


def _shell_account() -> str:
    """The operating-system account that ran the command: the operator on record when no --by is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        return ""
