"""Helpers for API tests: a snapshot of every table and upload file, so a refused
request can be shown to have written nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db


def table_counts() -> dict[str, int]:
    db.session.rollback()  # see what is committed, not what this session holds
    return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}


def upload_files(app) -> list[str]:
    root = Path(app.config["UPLOAD_DIR"])
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class Unchanged:
    """`with nothing_written(): ...` asserts no row and no upload file appeared or went."""

    def __init__(self, app):
        self.app = app

    def __enter__(self):
        self.rows, self.files = table_counts(), upload_files(self.app)
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert table_counts() == self.rows
            assert upload_files(self.app) == self.files


@pytest.fixture
def nothing_written(app, ctx):
    return lambda: Unchanged(app)
