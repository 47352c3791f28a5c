"""The difference between two plan documents, cell by cell and field by field.

Pure: it reads two format-1 documents as ``plan.services.version_document``
builds them (durations spelled as in the file, ``30m``) and touches no
database. The proposal pages and API (improvements app) show its result in
the reader's language; a bilingual text stays ``{en, zh}`` here so both
languages can be shown side by side.

A field is named by its path inside its cell, role or level (``criteria``,
``escalate.after``, ``on_site.ops_supervisor``); a step by its position
(``steps`` with ``index`` 1, 2, ...). Keys this module does not know (a newer
format's optional keys) are still compared, as whole values.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

State = Literal["added", "removed", "changed"]

# The order fields are shown in; unknown keys follow, sorted.
CELL_FIELDS = ("criteria", "notify", "report", "on_site", "approval", "escalate", "stability", "steps")
ROLE_FIELDS = ("name", "reports_to", "duties", "authority")
LEVEL_FIELDS = ("name", "color", "announce", "urgent", "repeat")
CATEGORY_FIELDS = ("name",)
# Lists whose items are told apart by one of their keys (a role has one on-site deadline per cell).
KEYED_LISTS = {"on_site": ("role", "within")}
# Lists compared item by item, by position, so an inserted step shows as one step added.
ORDERED_LISTS = frozenset({"steps"})


@dataclass(frozen=True)
class Change:
    """One field that differs. ``old`` is None when the field was added, ``new`` None when removed."""

    field: str
    old: Any
    new: Any
    index: int | None = None  # a step's position (1-based): in the new list, or in the old one when removed

    @property
    def state(self) -> State:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


@dataclass(frozen=True)
class ItemDiff:
    """A role, level or category that was added, removed or changed."""

    key: str
    state: State
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class CellDiff:
    category: str
    level: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class PlanDiff:
    name: Change | None = None
    roles: tuple[ItemDiff, ...] = ()
    levels: tuple[ItemDiff, ...] = ()
    categories: tuple[ItemDiff, ...] = ()
    cells: tuple[CellDiff, ...] = ()
    other: tuple[Change, ...] = field(default=())  # top-level keys beyond these (e.g. a newer format's)

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.roles or self.levels or self.categories or self.cells or self.other)

    @property
    def count(self) -> int:
        """How many fields differ, in all."""
        items = sum(max(len(item.changes), 1) for item in (*self.roles, *self.levels, *self.categories))
        return (1 if self.name else 0) + items + sum(len(c.changes) for c in self.cells) + len(self.other)


def is_text(value: Any) -> bool:
    """A bilingual text {en, zh}: a leaf, shown in both languages."""
    return isinstance(value, Mapping) and set(value) == {"en", "zh"}


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> PlanDiff:
    """Everything that differs from ``old`` to ``new``."""
    known = {"format", "name", "roles", "levels", "categories"}
    name = None if old.get("name") == new.get("name") else Change("name", old.get("name"), new.get("name"))
    other = tuple(_changes(_only(old, known), _only(new, known), ()))
    old_categories = _by_key(old.get("categories", []))
    new_categories = _by_key(new.get("categories", []))
    return PlanDiff(
        name=name,
        roles=_items(old.get("roles", []), new.get("roles", []), ROLE_FIELDS),
        levels=_items(old.get("levels", []), new.get("levels", []), LEVEL_FIELDS),
        categories=_items(old.get("categories", []), new.get("categories", []), CATEGORY_FIELDS, skip={"responses"}),
        cells=tuple(_cells(old_categories, new_categories, _level_order(old, new))),
        other=other,
    )


def _only(document: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in known}


def _by_key(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {item["key"]: item for item in items if isinstance(item, Mapping) and "key" in item}


def _level_order(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = [level["key"] for level in new.get("levels", [])]
    return keys + [level["key"] for level in old.get("levels", []) if level["key"] not in keys]


def _items(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], order: Sequence[str],
           skip: Iterable[str] = ()) -> tuple[ItemDiff, ...]:
    before, after = _by_key(old), _by_key(new)
    result: list[ItemDiff] = []
    for key in list(after) + [k for k in before if k not in after]:
        if key not in before:
            result.append(ItemDiff(key, "added", tuple(_changes({}, _without(after[key], skip), order))))
        elif key not in after:
            result.append(ItemDiff(key, "removed", tuple(_changes(_without(before[key], skip), {}, order))))
        else:
            changes = tuple(_changes(_without(before[key], skip), _without(after[key], skip), order))
            if changes:
                result.append(ItemDiff(key, "changed", changes))
    return tuple(result)


def _without(item: Mapping[str, Any], skip: Iterable[str]) -> dict[str, Any]:
    leave = {"key", *skip}
    return {k: v for k, v in item.items() if k not in leave}


def _cells(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]],
           levels: Sequence[str]) -> Iterable[CellDiff]:
    for category in list(after) + [k for k in before if k not in after]:
        old_cells = before.get(category, {}).get("responses") or {}
        new_cells = after.get(category, {}).get("responses") or {}
        for level in levels:
            changes = tuple(_changes(old_cells.get(level) or {}, new_cells.get(level) or {}, CELL_FIELDS))
            if changes:
                yield CellDiff(category, level, changes)


def _changes(old: Mapping[str, Any], new: Mapping[str, Any], order: Sequence[str]) -> Iterable[Change]:
    keys = [k for k in order if k in old or k in new]
    keys += sorted(k for k in {*old, *new} if k not in order)
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before == after or (_blank(before) and _blank(after)):
            continue
        if key in ORDERED_LISTS:
            yield from _ordered(key, before or [], after or [])
        elif key in KEYED_LISTS:
            yield from _keyed(key, before or [], after or [])
        elif _is_record(before) or _is_record(after):
            yield from _record(key, before or {}, after or {})
        else:
            yield Change(key, None if _blank(before) else before, None if _blank(after) else after)


def _blank(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _is_record(value: Any) -> bool:
    return isinstance(value, Mapping) and not is_text(value)


def _record(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[Change]:
    """A mapping such as approval {by, within}: one change per sub-field."""
    for sub in list(old) + [k for k in new if k not in old]:
        if old.get(sub) != new.get(sub):
            yield Change(f"{key}.{sub}", old.get(sub), new.get(sub))


def _keyed(key: str, old: Sequence[Any], new: Sequence[Any]) -> Iterable[Change]:
    by, value = KEYED_LISTS[key]
    before = {item[by]: item.get(value) for item in old if isinstance(item, Mapping)}
    after = {item[by]: item.get(value) for item in new if isinstance(item, Mapping)}
    for name in list(before) + [k for k in after if k not in before]:
        if before.get(name) != after.get(name):
            yield Change(f"{key}.{name}", before.get(name), after.get(name))


def _ordered(key: str, old: Sequence[Any], new: Sequence[Any]) -> Iterable[Change]:
    """Item by item: a step inserted, removed or reworded is one change at its position."""
    matcher = SequenceMatcher(a=[_hashable(x) for x in old], b=[_hashable(x) for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = max(i2 - i1, j2 - j1)
        for offset in range(pairs):
            i, j = i1 + offset, j1 + offset
            before = old[i] if i < i2 else None
            after = new[j] if j < j2 else None
            yield Change(key, before, after, index=(j + 1) if after is not None else (i + 1))


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
