"""CSV export: cells that a spreadsheet would run as formulas are neutralised.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Iterable




# --- CSV ---------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str | int | float:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula gets a
    leading quote; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads the encoding from it), a header row,
    CRLF line ends, every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in headers])
    for r in rows:
        writer.writerow([csv_cell(v) for v in r])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
