"""Reading and checking a plan file (format 1) before anything is stored.

``read_plan(text)`` returns the checked document or raises ``PlanFileError``
carrying every problem found, each prefixed with its path in the file
(``categories.network.responses.blue.escalate.after: ...``), so an author fixes
a file in one pass. Nothing here touches the database.
"""

import re
from datetime import timedelta
from typing import Any

from .conditions import CONDITION_FIELDS, OPERATORS
from .reading import Checker, PlanFileError, kind_of, parse_text

# Read from here by the loader and the command, with the format's checks.
__all__ = ["AUTHORITIES", "CATEGORY_KEYS", "EXTERNAL_STAGES", "FORMAT", "LEVEL_DEFAULTS", "LEVEL_RANKS", "PARTY_KINDS",
           "PlanFileError", "check_document", "parse_text"]

FORMAT = 1
LEVEL_RANKS = {"blue": 4, "yellow": 3, "orange": 2, "red": 1}

# What a level means beyond its rank, when the plan file does not say (each is an optional key of a level):
# ``announce`` — announced to the business departments (plan 4.1.3, 4.2.3, 4.3.3: orange and red);
# ``urgent`` — sent on every channel at once and through quiet hours;
# ``repeat`` — an unanswered notification is repeated ``every`` so long, ``times`` times, before the
# recipient's superior role is told (an admin LevelPolicy row overrides it for a running office).
LEVEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "blue": {"announce": False, "urgent": False, "repeat": {"every": timedelta(hours=1), "times": 1}},
    "yellow": {"announce": False, "urgent": False, "repeat": {"every": timedelta(minutes=30), "times": 2}},
    "orange": {"announce": True, "urgent": True, "repeat": {"every": timedelta(minutes=10), "times": 3}},
    "red": {"announce": True, "urgent": True, "repeat": {"every": timedelta(minutes=5), "times": 3}},
}
MAX_REPEATS = 20

# What a role may do, or is told, beyond the cells that name it: a role's optional ``authority`` list.
# The permission rules, the engine and the announcements read these from the plan version; no role key
# appears in the code (docs/architecture.md, "The plan is data").
AUTHORITIES = {
    "coordinate": "takes part in every incident's response and is told of every missed deadline",
    "respond_to_every_incident": "takes part in every incident's response",
    "edit_plan": "edits the emergency plan",
    "lower_level": "lowers an incident's warning level",
    "review": "writes the review of a resolved incident and its remediation actions",
    "approve_review": "approves the post-incident review",
    "archive": "archives a reviewed incident",
    "announce": "announces the level to the business departments by hand",
    "informed_only": "is told, but takes no action on incidents",
    "hear_announcements": "receives the announcements of the warning level",
    "monthly_report": "receives the monthly leadership report (reports app)",
}
CATEGORY_KEYS = ["network", "equipment", "system"]
# Outside organisations the plan names (top-level ``parties``), and the stages of a reporting duty toward one
# (a cell's ``external``): ``initial`` and ``written`` count from the incident reaching the cell's level,
# ``final`` from its resolution.
PARTY_KINDS = ["regulator", "carrier", "vendor", "department"]
EXTERNAL_STAGES = ["initial", "written", "final"]
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_document(data: Any) -> dict[str, Any]:
    """Return the normalised document, or raise PlanFileError listing every problem."""
    c = Checker()
    doc = c.mapping(data, "", ("format", "name", "roles", "levels", "categories"), ("parties",))
    if doc is None:
        raise PlanFileError(c.errors)
    if "format" in doc and doc["format"] != FORMAT:
        c.error("format", f"unknown format {doc['format']!r}: this version of Fenghuo reads format {FORMAT}")
        raise PlanFileError(c.errors)

    clean: dict[str, Any] = {"format": FORMAT, "name": c.text(doc.get("name"), "name") if "name" in doc else None}
    roles = _check_roles(c, doc.get("roles", []))
    levels = _check_levels(c, doc.get("levels", []))
    clean["roles"] = list(roles.values())
    clean["levels"] = list(levels.values())
    parties = _check_parties(c, doc["parties"]) if "parties" in doc else {}
    clean["categories"] = _check_categories(c, doc.get("categories", []), roles, levels, parties)
    if parties:
        clean["parties"] = list(parties.values())
    if c.errors:
        raise PlanFileError(c.errors)
    return clean


def _check_roles(c: Checker, value: Any) -> dict[str, dict[str, Any]]:
    roles: dict[str, dict[str, Any]] = {}
    items = c.list(value, "roles")
    for index, item in enumerate(items):
        key = item.get("key") if isinstance(item, dict) else None
        path = f"roles.{key}" if isinstance(key, str) and _KEY.match(key) else f"roles[{index}]"
        item = c.mapping(item, path, ("key", "name"), ("reports_to", "duties", "authority"))
        if item is None or "key" not in item:
            continue
        if not isinstance(key, str) or not _KEY.match(key):
            c.error(f"{path}.key", f"{key!r} is not a key: use lower-case letters, digits and _")
            continue
        if key in roles:
            c.error(path, f"role {key!r} is declared twice")
            continue
        role: dict[str, Any] = {"key": key, "name": c.text(item.get("name"), f"{path}.name") if "name" in item else None}
        if item.get("reports_to") is not None:
            role["reports_to"] = item["reports_to"]
        if "duties" in item:
            role["duties"] = c.text(item["duties"], f"{path}.duties")
        if "authority" in item:
            role["authority"] = _check_authority(c, item["authority"], f"{path}.authority")
        roles[key] = role
    if not items:
        c.error("roles", "the plan must declare at least one role")
    for key, role in roles.items():
        if "reports_to" in role:
            c.role_ref(role["reports_to"], f"roles.{key}.reports_to", roles)
    _check_no_cycle(c, roles)
    return roles


def _check_authority(c: Checker, value: Any, path: str) -> list[str]:
    granted: list[str] = []
    for index, name in enumerate(c.list(value, path)):
        if name not in AUTHORITIES:
            c.error(f"{path}[{index}]", f"unknown authority {name!r} (known: {', '.join(AUTHORITIES)})")
        elif name in granted:
            c.error(f"{path}[{index}]", f"{name!r} is listed twice")
        else:
            granted.append(name)
    return granted


def _check_no_cycle(c: Checker, roles: dict[str, dict[str, Any]]) -> None:
    for start in roles:
        seen = [start]
        current = roles[start].get("reports_to")
        while current in roles:
            if current in seen:
                if current == start:
                    chain = " → ".join(seen + [current])
                    c.error(f"roles.{start}.reports_to", f"reporting chain goes round in a circle: {chain}")
                break
            seen.append(current)
            current = roles[current].get("reports_to")


def _check_levels(c: Checker, value: Any) -> dict[str, dict[str, Any]]:
    levels: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(c.list(value, "levels")):
        key = item.get("key") if isinstance(item, dict) else None
        path = f"levels.{key}" if isinstance(key, str) and _KEY.match(key) else f"levels[{index}]"
        item = c.mapping(item, path, ("key", "rank", "color", "name"), ("announce", "urgent", "repeat"))
        if item is None or "key" not in item:
            continue
        if key not in LEVEL_RANKS:
            c.error(f"{path}.key", f"unknown level {key!r}: the levels are {', '.join(LEVEL_RANKS)}")
            continue
        if key in levels:
            c.error(path, f"level {key!r} is declared twice")
            continue
        if "rank" in item and item["rank"] != LEVEL_RANKS[key]:
            c.error(f"{path}.rank", f"{key} has rank {LEVEL_RANKS[key]} (4 is the mildest, 1 the most severe), not {item['rank']!r}")
        if "color" in item and (not isinstance(item["color"], str) or not _COLOR.match(item["color"])):
            c.error(f"{path}.color", f"{item['color']!r} is not a colour like \"#1f6feb\"")
        defaults = LEVEL_DEFAULTS[key]
        levels[key] = {
            "key": key,
            "rank": LEVEL_RANKS[key],
            "color": item.get("color"),
            "name": c.text(item.get("name"), f"{path}.name") if "name" in item else None,
            "announce": _flag(c, item.get("announce", defaults["announce"]), f"{path}.announce"),
            "urgent": _flag(c, item.get("urgent", defaults["urgent"]), f"{path}.urgent"),
            "repeat": _check_repeat(c, item["repeat"], f"{path}.repeat") if "repeat" in item else dict(defaults["repeat"]),
        }
    for key in LEVEL_RANKS:
        if key not in levels:
            c.error("levels", f"missing level {key!r}: a plan has exactly blue, yellow, orange and red")
    return dict(sorted(levels.items(), key=lambda pair: -pair[1]["rank"]))


def _flag(c: Checker, value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        c.error(path, f"must be true or false, not {value!r}")
        return False
    return value


def _check_repeat(c: Checker, value: Any, path: str) -> dict[str, Any] | None:
    repeat = c.mapping(value, path, ("every", "times"))
    if repeat is None:
        return None
    every = c.duration(repeat["every"], f"{path}.every") if "every" in repeat else None
    if every is not None and every < timedelta(minutes=1):
        c.error(f"{path}.every", "must be at least 1m: a shorter repeat would flood the recipient")
        every = None
    times = repeat.get("times")
    if "times" in repeat and (isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= MAX_REPEATS):
        c.error(f"{path}.times", f"must be a whole number from 0 to {MAX_REPEATS}, not {times!r}")
        times = None
    if every is None or times is None:
        return None
    return {"every": every, "times": times}


def _check_parties(c: Checker, value: Any) -> dict[str, dict[str, Any]]:
    parties: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(c.list(value, "parties")):
        key = item.get("key") if isinstance(item, dict) else None
        path = f"parties.{key}" if isinstance(key, str) and _KEY.match(key) else f"parties[{index}]"
        item = c.mapping(item, path, ("key", "kind", "name"))
        if item is None or "key" not in item:
            continue
        if not isinstance(key, str) or not _KEY.match(key):
            c.error(f"{path}.key", f"{key!r} is not a key: use lower-case letters, digits and _")
            continue
        if key in parties:
            c.error(path, f"party {key!r} is declared twice")
            continue
        if "kind" in item and item["kind"] not in PARTY_KINDS:
            c.error(f"{path}.kind", f"unknown kind {item['kind']!r} (a party is one of: {', '.join(PARTY_KINDS)})")
        parties[key] = {"key": key, "kind": item.get("kind"),
                        "name": c.text(item.get("name"), f"{path}.name") if "name" in item else None}
    return parties


def _check_external(c: Checker, value: Any, path: str, parties: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A cell's reporting duties to outside parties: ``[{party, initial?, written?, final?, confirmed?}]``."""
    duties: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(c.list(value, path)):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            c.error(where, f"must be a mapping like {{party: pboc, initial: 30m}}, not {kind_of(item)}")
            continue
        for key in item:
            if key not in ("party", "confirmed", *EXTERNAL_STAGES):
                c.error(f"{where}.{key}", f"unknown stage {key!r} (the stages are {', '.join(EXTERNAL_STAGES)}; "
                                          "also allowed: party, confirmed)")
        party = item.get("party")
        if "party" not in item:
            c.error(f"{where}.party", "is required")
        elif not isinstance(party, str) or party not in parties:
            c.error(f"{where}.party", f"unknown party {party!r} (declared parties: {', '.join(parties) or 'none'})")
            party = None
        elif party in seen:
            c.error(f"{where}.party", f"party {party!r} is listed twice in this cell")
            party = None
        stages = {stage: c.duration(item[stage], f"{where}.{stage}") for stage in EXTERNAL_STAGES if stage in item}
        if not stages:
            c.error(where, f"give at least one stage ({', '.join(EXTERNAL_STAGES)}) with its duration")
        confirmed = _flag(c, item.get("confirmed", True), f"{where}.confirmed")
        if party is None or any(d is None for d in stages.values()) or not stages:
            continue
        seen.add(party)
        duties.append({"party": party, **stages, "confirmed": confirmed})
    return duties


def _check_categories(c: Checker, value: Any, roles: dict[str, dict[str, Any]],
                      levels: dict[str, dict[str, Any]], parties: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    categories: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(c.list(value, "categories")):
        key = item.get("key") if isinstance(item, dict) else None
        path = f"categories.{key}" if isinstance(key, str) and _KEY.match(key) else f"categories[{index}]"
        item = c.mapping(item, path, ("key", "name", "responses"))
        if item is None or "key" not in item:
            continue
        if key not in CATEGORY_KEYS:
            c.error(f"{path}.key", f"unknown category {key!r}: the categories are {', '.join(CATEGORY_KEYS)}")
            continue
        if key in categories:
            c.error(path, f"category {key!r} is declared twice")
            continue
        category: dict[str, Any] = {"key": key, "name": c.text(item.get("name"), f"{path}.name") if "name" in item else None}
        category["responses"] = _check_responses(c, item.get("responses"), f"{path}.responses", roles, levels, parties)
        categories[key] = category
    for key in CATEGORY_KEYS:
        if key not in categories:
            c.error("categories", f"missing category {key!r}")
    return [categories[key] for key in CATEGORY_KEYS if key in categories]


def _check_responses(c: Checker, value: Any, path: str, roles: dict[str, dict[str, Any]],
                     levels: dict[str, dict[str, Any]],
                     parties: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    responses: dict[str, dict[str, Any] | None] = {}
    if value is None:
        return responses
    if not isinstance(value, dict):
        c.error(path, f"must be a mapping from level key to response, not {kind_of(value)}")
        return responses
    for level_key, cell in value.items():
        if level_key not in LEVEL_RANKS:
            c.error(f"{path}.{level_key}", f"unknown level {level_key!r}: the levels are {', '.join(LEVEL_RANKS)}")
            continue
        responses[level_key] = _check_cell(c, cell, f"{path}.{level_key}", level_key, roles, levels, parties)
    for level_key in LEVEL_RANKS:
        if level_key not in value:
            c.error(f"{path}.{level_key}", "missing cell: every category needs a response for every level")
    return {key: responses[key] for key in LEVEL_RANKS if key in responses}


def _check_cell(c: Checker, value: Any, path: str, level_key: str, roles: dict[str, dict[str, Any]],
                levels: dict[str, dict[str, Any]], parties: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    cell = c.mapping(value, path, ("criteria", "notify", "report", "on_site", "approval", "steps"),
                     ("escalate", "stability", "external"))
    if cell is None:
        return None
    clean: dict[str, Any] = {"criteria": c.text(cell.get("criteria"), f"{path}.criteria") if "criteria" in cell else None}

    clean["notify"] = []
    for i, role in enumerate(c.list(cell.get("notify", []), f"{path}.notify")):
        if c.role_ref(role, f"{path}.notify[{i}]", roles) and role in clean["notify"]:
            c.error(f"{path}.notify[{i}]", f"role {role!r} is listed twice")
        elif role in roles:
            clean["notify"].append(role)

    clean["report"] = []
    for i, duty in enumerate(c.list(cell.get("report", []), f"{path}.report")):
        duty = c.mapping(duty, f"{path}.report[{i}]", ("from", "to"))
        if duty is not None:
            source = c.role_ref(duty.get("from"), f"{path}.report[{i}].from", roles) if "from" in duty else None
            target = c.role_ref(duty.get("to"), f"{path}.report[{i}].to", roles) if "to" in duty else None
            clean["report"].append({"from": source, "to": target})

    clean["on_site"] = []
    seen_on_site = set()
    for i, duty in enumerate(c.list(cell.get("on_site", []), f"{path}.on_site")):
        duty = c.mapping(duty, f"{path}.on_site[{i}]", ("role", "within"))
        if duty is None:
            continue
        role = c.role_ref(duty.get("role"), f"{path}.on_site[{i}].role", roles) if "role" in duty else None
        within = c.duration(duty.get("within"), f"{path}.on_site[{i}].within") if "within" in duty else None
        if role in seen_on_site:
            c.error(f"{path}.on_site[{i}].role", f"role {role!r} already has an on-site deadline in this cell")
        seen_on_site.add(role)
        clean["on_site"].append({"role": role, "within": within})

    approval = cell.get("approval")
    clean["approval"] = None
    if approval is not None:
        approval = c.mapping(approval, f"{path}.approval", ("by",), ("within",))
        if approval is not None and "by" in approval:
            clean["approval"] = {"by": c.role_ref(approval["by"], f"{path}.approval.by", roles)}
            if "within" in approval:
                clean["approval"]["within"] = c.duration(approval["within"], f"{path}.approval.within")

    if cell.get("escalate") is not None:
        clean["escalate"] = _check_escalation(c, cell["escalate"], f"{path}.escalate", level_key)

    if cell.get("stability") is not None:
        clean["stability"] = _check_stability(c, cell["stability"], f"{path}.stability", roles)

    if cell.get("external") is not None:
        clean["external"] = _check_external(c, cell["external"], f"{path}.external", parties)

    clean["steps"] = [
        c.text(step, f"{path}.steps[{i}]") for i, step in enumerate(c.list(cell.get("steps", []), f"{path}.steps"))
    ]
    return clean


def _check_stability(c: Checker, value: Any, path: str, roles: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Plan 4.2.2: after recovery, ``by`` watches the system for ``watch`` and confirms it stable before resolving."""
    rule = c.mapping(value, path, ("by", "watch"))
    if rule is None:
        return None
    by = c.role_ref(rule["by"], f"{path}.by", roles) if "by" in rule else None
    watch = c.duration(rule["watch"], f"{path}.watch") if "watch" in rule else None
    if by is None or watch is None:
        return None
    return {"by": by, "watch": watch}


def _check_escalation(c: Checker, value: Any, path: str, level_key: str) -> dict[str, Any] | None:
    rule = c.mapping(value, path, ("to", "after"), ("when",))
    if rule is None:
        return None
    clean: dict[str, Any] = {"to": rule.get("to"), "after": None}
    target = rule.get("to")
    if "to" in rule:
        if target not in LEVEL_RANKS:
            c.error(f"{path}.to", f"unknown level {target!r}: the levels are {', '.join(LEVEL_RANKS)}")
        elif LEVEL_RANKS[target] >= LEVEL_RANKS[level_key]:
            c.error(f"{path}.to", f"escalation must go to a more severe level than {level_key}, not {target}")
    if "after" in rule:
        clean["after"] = c.duration(rule["after"], f"{path}.after")
    if rule.get("when") is not None:
        clean["when"] = _check_condition(c, rule["when"], f"{path}.when")
    return clean


def _check_condition(c: Checker, value: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        c.error(path, f"must be a mapping like {{field: affected_branch_ratio, gt: 0.5}}, not {kind_of(value)}")
        return None
    field = value.get("field")
    if "field" not in value:
        c.error(f"{path}.field", "is required")
    elif field not in CONDITION_FIELDS:
        c.error(f"{path}.field", f"unknown field {field!r} (conditions can test: {', '.join(CONDITION_FIELDS)})")
    ops = [key for key in value if key != "field"]
    unknown = [key for key in ops if key not in OPERATORS]
    for key in unknown:
        c.error(f"{path}.{key}", f"unknown comparison (use one of {', '.join(OPERATORS)})")
    known = [key for key in ops if key in OPERATORS]
    if len(known) != 1 and not unknown:
        c.error(path, f"compare with exactly one of {', '.join(OPERATORS)}")
        return None
    if len(known) == 1:
        number = value[known[0]]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            c.error(f"{path}.{known[0]}", f"must be a number, not {number!r}")
            return None
        return {"field": field, "op": known[0], "value": float(number)}
    return None
