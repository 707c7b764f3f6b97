"""Technician forms: browser fields -> the data dicts the services validate.

CSRF is checked on every POST by CSRFProtect (the hidden `csrf_token` field, or the
`X-CSRFToken` header htmx and the upload script send). Values are validated by the
services, once, for the pages and the API alike; here they are only gathered.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

ROW_KEY = re.compile(r"^[a-z0-9]{1,16}$")
MAX_ROWS = 50


def number_text(value: str | None) -> str:
    """What a phone keyboard types for a number: "1,5" means 1.5; spaces are dropped."""
    return (value or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")


def new_row_key() -> str:
    return secrets.token_hex(4)


@dataclass
class PartRow:
    """One parts row as typed (kept as text so an error shows exactly what was sent)."""

    key: str
    name: str = ""
    quantity: str = ""
    unit_cost: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.name.strip() or self.quantity.strip() or self.unit_cost.strip())


@dataclass
class CompletionForm:
    work_description: str = ""
    labor_hours: str = ""  # the rate is not a field: the office sets it (technicians.labor_rate_for)
    parts: list[PartRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form) -> "CompletionForm":
        rows = []
        for key in form.getlist("part")[:MAX_ROWS]:
            if not ROW_KEY.match(key or ""):
                continue
            row = PartRow(key=key, name=form.get(f"part-{key}-name", ""),
                          quantity=form.get(f"part-{key}-quantity", ""),
                          unit_cost=form.get(f"part-{key}-unitCost", ""))
            if not row.blank:
                rows.append(row)
        return cls(
            work_description=form.get("workDescription", ""),
            labor_hours=form.get("laborHours", ""),
            parts=rows,
        )

    @classmethod
    def from_data(cls, data: dict) -> "CompletionForm":
        """A form filled from a body in the API's field names (a sent-back submission)."""
        return cls(
            work_description=data.get("workDescription", ""),
            labor_hours=data.get("laborHours", ""),
            parts=[PartRow(key=new_row_key(), name=p["name"], quantity=p["quantity"], unit_cost=p["unitCost"])
                   for p in data.get("partsUsed", [])[:MAX_ROWS]],
        )

    def data(self) -> dict:
        """The body `completions.complete` / `preview_totals` take (API field names)."""
        return {
            "workDescription": self.work_description,
            "laborHours": number_text(self.labor_hours),
            "partsUsed": [
                {"name": r.name, "quantity": number_text(r.quantity), "unitCost": number_text(r.unit_cost)}
                for r in self.parts
            ],
        }

    def attach_errors(self, errors: dict[str, str]) -> None:
        """Field messages (from web.form_errors) beside their inputs, parts ones
        (`partsUsed[2].unitCost`) on their row."""
        part_field = re.compile(r"^partsUsed\[(\d+)\]\.?(\w*)$")
        for name, message in errors.items():
            if name == "_form":
                continue
            m = part_field.match(name)
            if m and int(m.group(1)) < len(self.parts):
                self.parts[int(m.group(1))].errors[m.group(2) or "name"] = message
            else:
                self.errors[name] = message


def location_data(req) -> dict:
    """`{latitude, longitude}` from a JSON body or a form (anything else is ignored)."""
    source = req.get_json(silent=True) if req.is_json else req.form
    source = source if hasattr(source, "get") else {}
    return {k: source.get(k) for k in ("latitude", "longitude")}


def arrival_data(form) -> dict:
    """The arrival form's optional coordinates, filled in by the page's script."""
    out = {}
    for k in ("latitude", "longitude"):
        value = (form.get(k) or "").strip()
        out[k] = value or None
    return out
