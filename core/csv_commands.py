"""What every CSV-importing command says the same way: the file it could not read, the rows it refused.

importstaff, importassets and importparties read a whole UTF-8 file, check every row before writing any,
and on a bad file change nothing and list every problem with its line.
"""

from collections.abc import Sequence
from pathlib import Path

from django.core.management.base import CommandError


def read_csv_text(file: str) -> str:
    """The file's text, or a CommandError a person can act on (no such file, not UTF-8)."""
    try:
        return Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{file}: a folder, not a file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{file}: not UTF-8 text; save the CSV as UTF-8") from None


def refused(file: str, errors: Sequence[str]) -> CommandError:
    """Every problem of a file that was refused whole, each on its own line."""
    lines = [f"{file}: {len(errors)} problem(s), nothing was changed:"] + [f"  {e}" for e in errors]
    return CommandError("\n".join(lines))


def counted(result: dict[str, int]) -> str:
    return f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged."
