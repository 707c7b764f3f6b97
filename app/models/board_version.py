"""The board's change counters: one row per branch (and "*" for what every board shows,
like a technician's or a subcategory's name), bumped in the same transaction as any
change a dispatcher's board could show (services/board_version.py). The idle poll
compares their sum with the one its page was drawn at: one small read, no ticket query."""
from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

#: the scope of changes every board shows, whatever its branch filter
ALL_BRANCHES = "*"


class BoardVersion(db.Model):
    __tablename__ = "board_versions"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)  # a branch id or ALL_BRANCHES
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
