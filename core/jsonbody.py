"""One JSON parsing path for the API and the monitoring hooks.

Poison bodies (invalid UTF-8, lone surrogates, NaN/Infinity, nesting deeper
than MAX_DEPTH, NUL characters) are refused here as a 400 naming the problem:
they would otherwise surface as a 500 (RecursionError) or as a database error
answered 503 + Retry-After, which a client retries for ever.
"""

import json
import re
from collections.abc import Mapping
from typing import IO, Any, NoReturn

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any payload the hooks or the API accept; far below Python's recursion limit.
MAX_DEPTH = 64


class BadJson(ValueError):
    """The body cannot be accepted; ``path`` names where (``body`` when the whole body is at fault)."""

    def __init__(self, problem: str, path: str = "body") -> None:
        self.message = problem if path == "body" else f"{path}: {problem}"
        super().__init__(self.message)
        self.problem, self.path = problem, path


def _refuse_constant(name: str) -> NoReturn:
    raise BadJson(_("%(name)s is not a JSON number; send a finite number or null") % {"name": name})


_SURROGATE = re.compile("[\ud800-\udfff]")


def _string_problem(text: str, nul: bool) -> str | None:
    if nul and "\x00" in text:
        return _("must not contain the NUL character (\\u0000)")
    if _SURROGATE.search(text):
        return _("must not contain a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return None


def check_value(value: Any, *, nul: bool = True) -> None:
    """Raise BadJson for the first string or key that cannot be stored, or nesting over MAX_DEPTH.

    nul=False leaves NUL characters to the API's serializers, which name the field in their own shape.
    """
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:  # iterative: a deeply nested value must not exhaust the recursion limit itself
        path, item, depth = stack.pop()
        if isinstance(item, str):
            if problem := _string_problem(item, nul):
                raise BadJson(problem, path or "body")
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise BadJson(_("the body is nested deeper than %(n)d levels") % {"n": MAX_DEPTH})
            if isinstance(item, dict):
                for key, child in item.items():
                    # A surrogate echoed in the path would make the 400 itself unencodable.
                    shown = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
                    child_path = f"{path}.{shown}" if path else shown
                    if problem := _string_problem(key, nul):
                        raise BadJson(problem, child_path)
                    stack.append((child_path, child, depth + 1))
            else:
                stack.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item))


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than limit, found without recursion (before json.loads)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(raw: bytes | str, *, nul: bool = True) -> Any:
    """The parsed value of a JSON body given as bytes or str; raises BadJson naming the problem."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(_("the body is not valid UTF-8 (byte %(at)d); send JSON encoded as UTF-8") %
                          {"at": exc.start}) from None
    else:
        text = raw
    # Only bodies with many brackets are scanned, so a normal body costs one count.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(text, MAX_DEPTH):
        raise BadJson(_("the body is nested deeper than %(n)d levels") % {"n": MAX_DEPTH})
    try:
        value = json.loads(text.lstrip("\ufeff"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BadJson(_("the body is not valid JSON: %(error)s") % {"error": exc}) from None
    except RecursionError:
        raise BadJson(_("the body is nested deeper than %(n)d levels") % {"n": MAX_DEPTH}) from None
    # A lone surrogate or a NUL can reach the value only through a \u escape (strict UTF-8 decoding yields no
    # surrogate, and json.loads refuses a raw control character), or from a str given with a surrogate in it;
    # the depth was checked above. Without either, walking every string of a large body finds nothing.
    if "\\u" in text or (isinstance(raw, str) and _SURROGATE.search(text)):
        check_value(value, nul=nul)
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser on the shared path: poison is a 400 ParseError, never a 500."""

    def parse(self, stream: IO[Any] | None, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            return parse_json(raw, nul=False)
        except BadJson as exc:
            raise ParseError(exc.message) from None
