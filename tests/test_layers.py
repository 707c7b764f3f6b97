"""Layers point down (issue 14, item 4): models and services never import the web
layer or the job layer, and the one transaction hook runs callbacks by the outcome."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app import transaction
from app.extensions import db

APP = Path(__file__).resolve().parent.parent / "app"
UPPER = ("app.web", "app.edge", "app.errors", "app.blueprints", "app.jobs", "app.tasks")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["models", "services"])
def test_models_and_services_import_nothing_above_them(layer):
    offenders = {str(p.relative_to(APP)): sorted(n for n in _imports(p) if n.startswith(UPPER))
                 for p in (APP / layer).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_models_import_no_service():
    """The clock (app/clock.py) and the column types sit below the models; the models
    sit below the services."""
    offenders = {str(p.relative_to(APP)): sorted(n for n in _imports(p) if n.startswith("app.services"))
                 for p in (APP / "models").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_on_commit_runs_after_a_commit_and_never_after_a_rollback(ctx):
    ran = []
    transaction.on_commit(lambda: ran.append("committed"))
    transaction.on_rollback(lambda: ran.append("rolled back"))
    db.session.commit()
    assert ran == ["committed"]

    transaction.on_commit(lambda: ran.append("never"))
    transaction.on_rollback(lambda: ran.append("rolled back"))
    db.session.rollback()  # nothing was sent to the database yet: still a rollback
    db.session.commit()
    assert ran == ["committed", "rolled back"]


def test_a_failing_callback_is_logged_and_the_others_still_run(ctx, caplog):
    import logging

    ran = []
    transaction.on_commit(lambda: 1 / 0)
    transaction.on_commit(lambda: ran.append("second"))
    logging.getLogger("app.transaction").disabled = False  # alembic's fileConfig disables it
    with caplog.at_level(logging.ERROR, logger="app.transaction"):
        db.session.commit()
    assert ran == ["second"]
    assert "a callback after commit failed" in caplog.text


def test_the_transaction_cache_lives_as_long_as_the_transaction(ctx):
    transaction.transaction_cache("memo")["k"] = 1
    assert transaction.transaction_cache("memo") == {"k": 1}
    db.session.commit()
    assert transaction.transaction_cache("memo") == {}
