"""One Alembic history: it upgrades an empty database (the `app` fixture does that on each
backend), goes down and up again, and matches the models exactly (`flask db check`)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db


def model_diff():
    """What `flask db migrate` would generate: empty when models and migrations agree."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": False, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app, ctx):
    assert model_diff() == []


def test_the_history_has_one_head(app, ctx):
    migrate = app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    assert len(script.get_heads()) == 1


def test_downgrade_to_empty_and_upgrade_again(app, ctx):
    db.session.remove()
    tables = set(inspect(db.engine).get_table_names())
    assert {"service_tickets", "ticket_counters", "ticket_events", "api_tokens"} <= tables
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert set(inspect(db.engine).get_table_names()) == tables
    assert model_diff() == []
