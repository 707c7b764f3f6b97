"""JSON from clients, parsed in one place: request bodies (every `request.get_json()`,
the API's and Flask-WTF's alike: Flask parses them with `app.json`, which is
`SafeJSONProvider`) and the base64 JSON in paging cursors.

Three shapes of hostile JSON used to crash later, far from the parser (see DESIGN.md,
"Known traps"): nesting 1,000 deep (`RecursionError`), lone surrogates such as
"\\ud800" (`UnicodeEncodeError` once the text reaches the database or an encoder) and
integers hundreds of digits long (`OverflowError` in `float()`). They are refused here,
before any code sees the document, as a ValueError with a sentence that says why.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

from app.services.errors import UnsupportedMedia, ValidationError

MAX_DEPTH = 64  # arrays/objects inside each other; our deepest real document has 3
MAX_INT = 2**63 - 1  # what a BIGINT column holds; anything beyond is no real value of ours
_LONGEST_INT = len(str(MAX_INT)) + 1  # digits (and a sign) worth converting at all
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafeJSON(ValueError):
    """A document refused before use; str(exc) is a sentence for the client."""


def _parse_int(text: str) -> int:
    if len(text) > _LONGEST_INT or abs(int(text)) > MAX_INT:
        raise UnsafeJSON(_("A number in the JSON is too large."))
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON(_("A number in the JSON is too large."))
    return value


def _parse_constant(name: str):
    raise UnsafeJSON(_("%(value)s is not a JSON number.", value=name))


def _check_tree(value: Any) -> None:
    """Depth and text of a parsed document, without recursion."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise UnsafeJSON(_("The JSON contains an invalid character (a lone surrogate)."))
            continue
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise UnsafeJSON(_("The JSON is nested too deeply (at most %(levels)d levels).", levels=MAX_DEPTH))
            if isinstance(node, dict):
                stack.extend((k, depth) for k in node)
                stack.extend((v, depth + 1) for v in node.values())
            else:
                stack.extend((v, depth + 1) for v in node)


def loads(data: str | bytes | bytearray, **kwargs) -> Any:
    """Parse untrusted JSON, or raise UnsafeJSON (a ValueError) saying what is wrong."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig" if data[:3] == b"\xef\xbb\xbf" else "utf-8")
        except UnicodeDecodeError:
            raise UnsafeJSON(_("The JSON is not valid UTF-8 text."))
    try:
        value = json.loads(data, **{"parse_int": _parse_int, "parse_float": _parse_float,
                                    "parse_constant": _parse_constant, **kwargs})
    except RecursionError:
        raise UnsafeJSON(_("The JSON is nested too deeply (at most %(levels)d levels).", levels=MAX_DEPTH))
    except UnsafeJSON:
        raise
    except ValueError:  # JSONDecodeError, and int() refusing 4,300+ digits
        raise UnsafeJSON(_("The body is not valid JSON."))
    _check_tree(value)
    return value


class SafeJSONProvider(DefaultJSONProvider):
    """The app's JSON (`app.json`): Flask's output, our guarded input. Flask hands it to
    every request as `request.json_module`, so `request.get_json()` parses with `loads`
    above (the signed session cookie goes through it too, harmlessly)."""

    def loads(self, s, **kwargs):
        return loads(s, **kwargs)


class SafeRequest(Request):
    """Refused JSON is `None` for `get_json(silent=True)` callers and a 400 that says why
    (not Flask's bare "Bad request") for everyone else."""

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            return super().on_json_loading_failed(e)  # not JSON at all: 415
        message = str(e) if isinstance(e, UnsafeJSON) else _("The body is not valid JSON.")
        raise ValidationError(message)


#: Pages (outside /api) that read a JSON body themselves: the technician's location
#: report (tech.js) and the sign-in page (which reads only its form fields).
JSON_PAGES = {"technician.location", "auth.login"}


def refuse_json_on_form_pages():
    """before_request: pages take forms. Flask-WTF would fill a form from a JSON body
    instead (`{"name": 5}`, a list, a bare string...), and no page expects those types."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json \
            and not request.path.startswith("/api/") and request.endpoint not in JSON_PAGES:
        raise UnsupportedMedia(_("This page takes a form, not JSON; the API under /api takes JSON."))
