"""Reading a plan file's text (YAML or JSON, refusing repeated keys) and collecting every problem with its path.

``document`` walks the parsed data with a ``Checker``; nothing here knows the
plan format's keys.
"""

import json
from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import Any

import yaml

from .durations import parse_duration


class PlanFileError(Exception):
    def __init__(self, errors: Iterable[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


class _DuplicateKey(Exception):
    pass


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key repeated in one mapping (YAML lets the last win silently)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise _DuplicateKey(f"line {line}: duplicate key {key!r} (first at line {seen[key]})")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_text(text: str) -> Any:
    """YAML or JSON text → Python data, or PlanFileError naming where it broke."""
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text, object_pairs_hook=_json_pairs)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKey as exc:
        raise PlanFileError([f"(file): {exc}"]) from None
    except json.JSONDecodeError as exc:
        raise PlanFileError([f"(file): not valid JSON: {exc}"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanFileError([f"(file): not valid YAML{at}: {problem}"]) from None


class Checker:
    """Walks the document once, collecting every error with its path."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, required: Collection[str],
                optional: Collection[str] = ()) -> dict[Any, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping, not {kind_of(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join(list(required) + list(optional))
                self.error(f"{path}.{key}" if path else str(key), f"unknown key (allowed: {allowed})")
        for key in required:
            if key not in value:
                self.error(f"{path}.{key}" if path else key, "is required")
        return value

    def text(self, value: Any, path: str) -> dict[str, str] | None:
        """A bilingual text {en, zh}, both non-empty strings."""
        mapping = self.mapping(value, path, ("en", "zh"))
        if mapping is None:
            return None
        ok = True
        for lang in ("en", "zh"):
            if lang in mapping and (not isinstance(mapping[lang], str) or not mapping[lang].strip()):
                self.error(f"{path}.{lang}", "must be a non-empty text")
                ok = False
        if ok and "en" in mapping and "zh" in mapping:
            return {"en": mapping["en"].strip(), "zh": mapping["zh"].strip()}
        return None

    def list(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.error(path, f"must be a list, not {kind_of(value)}")
            return []
        return value

    def role_ref(self, value: Any, path: str, roles: Collection[str]) -> str | None:
        if not isinstance(value, str) or value not in roles:
            self.error(path, f"unknown role {value!r} (declared roles: {', '.join(roles) or 'none'})")
            return None
        return value

    def duration(self, value: Any, path: str) -> timedelta | None:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.error(path, str(exc))
            return None


def kind_of(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "a text", type(None): "nothing"}.get(type(value), type(value).__name__)
