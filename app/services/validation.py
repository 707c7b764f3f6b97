"""Parsing untrusted input into typed values, collecting field errors."""
from __future__ import annotations

import enum
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _, ngettext

from app.services.errors import ValidationError

# A number as people type it, ASCII digits only (Decimal(), float() and int() alone also
# take "1_0" and other scripts' digits such as "١٢").
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]+")
# A decimal comma as people type it in a form ("12,5"): one comma, digits after it. A
# comma before exactly three digits ("1,000") may be a thousands separator: not read.
# The API's JSON keeps the dot only (its contract); the pages' forms pass what was typed
# through `typed_decimal` first.
_DECIMAL_COMMA = re.compile(r"([+-]?[0-9]+),([0-9]{1,2}|[0-9]{4,})")


def typed_decimal(value):
    """A number typed in a form, as `Fields.decimal` reads it: "12,5" -> "12.5"; spaces
    around it dropped; anything else unchanged (and judged by `Fields.decimal`)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    comma = _DECIMAL_COMMA.fullmatch(text)
    return f"{comma.group(1)}.{comma.group(2)}" if comma else text


class Fields:
    """Collects per-field messages; `check()` raises one ValidationError for them all."""

    def __init__(self, data: Any):
        if not isinstance(data, dict):
            raise ValidationError(_("Expected a JSON object"))
        self.data = data
        self.errors: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return name in self.data

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = False, max_len: int = 200, default=None, strip=True):
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(name, _("This field is required."))
            return default
        if not isinstance(value, str):
            self.error(name, _("Must be text."))
            return default
        if "\x00" in value:  # PostgreSQL cannot store it; nobody types it
            self.error(name, _("Contains a character that is not allowed."))
            return default
        value = value.strip() if strip else value
        if len(value) > max_len:
            self.error(name, ngettext("Must be at most %(num)d character.", "Must be at most %(num)d characters.", max_len))
            return default
        return value

    def choice(self, name: str, enum_cls: type[enum.Enum], *, required=False, default=None):
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, _("This field is required."))
            return default
        try:
            return enum_cls(value)
        except (ValueError, TypeError):
            allowed = ", ".join(m.value for m in enum_cls)
            self.error(name, _("Must be one of: %(values)s.", values=allowed))
            return default

    def decimal(self, name: str, *, required=False, min_value=Decimal("0"), max_value=Decimal("1000000"),
                places: int = 2, default=None, allow_zero=True):
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, _("This field is required."))
            return default
        if isinstance(value, bool):
            self.error(name, _("Must be a number."))
            return default
        text = str(value).strip()
        # Plain digits only: Decimal() would also read "1_0" as 10 and other scripts' digits.
        if not _PLAIN_NUMBER.fullmatch(text) and not isinstance(value, (int, float, Decimal)):
            self.error(name, _("Must be a number."))
            return default
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            self.error(name, _("Must be a number."))
            return default
        if not number.is_finite():
            self.error(name, _("Must be a number."))
            return default
        if number < min_value or (not allow_zero and number == 0):
            self.error(name, _("Must be greater than zero.") if not allow_zero else _("Must be at least %(min)s.", min=min_value))
            return default
        if number > max_value:
            self.error(name, _("Must be at most %(max)s.", max=max_value))
            return default
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.error(name, ngettext("At most %(num)d decimal place.", "At most %(num)d decimal places.", places))
            return default
        return number

    def integer(self, name: str, *, required=False, min_value=1, max_value=10**7, default=None):
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, _("This field is required."))
            return default
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.error(name, _("Must be a whole number."))
            return default
        if isinstance(value, str) and not _PLAIN_INTEGER.fullmatch(value.strip()):
            self.error(name, _("Must be a whole number."))
            return default
        try:
            number = int(value)
        except ValueError:
            self.error(name, _("Must be a whole number."))
            return default
        if number < min_value or number > max_value:
            self.error(name, _("Must be between %(min)s and %(max)s.", min=min_value, max=max_value))
            return default
        return number

    def floating(self, name: str, *, required=False, min_value=-1e9, max_value=1e9, default=None):
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, _("This field is required."))
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.error(name, _("Must be a number."))
            return default
        # Plain digits only: float() would also read "1_0" as 10 and other scripts' digits.
        if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()):
            self.error(name, _("Must be a number."))
            return default
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: a 400-digit integer
            self.error(name, _("Must be between %(min)s and %(max)s.", min=min_value, max=max_value))
            return default
        if not math.isfinite(number) or number < min_value or number > max_value:
            self.error(name, _("Must be between %(min)s and %(max)s.", min=min_value, max=max_value))
            return default
        return number

    def boolean(self, name: str, *, default=None):
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "on", "off"}:
            return value.lower() in {"true", "1", "on"}
        self.error(name, _("Must be true or false."))
        return default

    def check(self, message: str | None = None) -> None:
        if self.errors:
            raise ValidationError(message or _("Please correct the highlighted fields."), self.errors)
