"""Migration 0015 on a database with tickets: each existing ticket gets the source its
creator's role says (docs/equipment.md)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.services import users
from tests.factories import make_ticket


def _before_0015(app) -> str:
    migrate = app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    return script.get_revision("0015").down_revision


def test_existing_tickets_get_their_source_from_who_made_them(app, world):
    by_store = make_ticket(world, by=world.manager)
    by_dispatcher = make_ticket(world, by=world.dispatcher)
    by_crm = make_ticket(world, by=world.dispatcher2)
    users.create_service_token(world.dispatcher2, {"name": "CRM"})  # dispatcher2 is the CRM's account
    nobody = make_ticket(world, by=world.dispatcher)
    handled = make_ticket(world, by=world.dispatcher)
    db.session.commit()
    ids = {"store": by_store.id, "dispatcher": by_dispatcher.id, "crm": by_crm.id, "nobody": nobody.id,
           "handled": handled.id}
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE service_tickets SET created_by_id = NULL, dispatcher_id = NULL WHERE id = :id"),
                     {"id": ids["nobody"]})
        conn.execute(sa.text("UPDATE service_tickets SET created_by_id = NULL WHERE id = :id"), {"id": ids["handled"]})
    downgrade(revision=_before_0015(app))
    try:
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("service_tickets")}
        assert "source" not in columns and "equipment_id" not in columns
        upgrade()
        with db.engine.connect() as conn:
            sources = dict(conn.execute(sa.text("SELECT id, source FROM service_tickets")).all())
        assert {name: sources[i] for name, i in ids.items()} == {
            "store": "STORE", "dispatcher": "DISPATCHER", "crm": "API", "nobody": "SYSTEM", "handled": "DISPATCHER"}
    finally:
        upgrade()
