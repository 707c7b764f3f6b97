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


def test_0005_clears_contested_chats_and_ends_tokens_that_would_live_for_ever(app, ctx):
    """Upgrading a database from before 0005: a chat id several users share is cleared on
    every one of them (nobody keeps a contested chat), other chats stay; tokens of
    deactivated users are revoked; other tokens get an expiry."""
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    db.session.remove()
    downgrade(revision="0004")
    try:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        users = [("u1", "1001", True), ("u2", "1001", True), ("u3", "1001", False), ("u4", "2002", True),
                 ("u5", None, False)]
        with db.engine.begin() as conn:
            for uid, chat, active in users:
                conn.execute(sa.text(
                    "INSERT INTO users (id, email, password_hash, name, role, telegram_chat_id, is_active, "
                    "created_at, updated_at) VALUES (:id, :email, 'x', :id, 'dispatcher', :chat, :active, :now, :now)"),
                    {"id": uid, "email": f"{uid}@example.com", "chat": chat, "active": active, "now": now})
            for uid in ("u4", "u5"):
                conn.execute(sa.text("INSERT INTO api_tokens (id, user_id, token_hash, created_at) "
                                     "VALUES (:id, :uid, :hash, :now)"),
                             {"id": f"t-{uid}", "uid": uid, "hash": f"hash-{uid}", "now": now})
        upgrade()
        with db.engine.connect() as conn:
            chats = dict(conn.execute(sa.text("SELECT id, telegram_chat_id FROM users")).all())
            tokens = {row[0]: row[1:] for row in conn.execute(sa.text(
                "SELECT user_id, kind, expires_at, revoked_at FROM api_tokens")).all()}
        assert chats == {"u1": None, "u2": None, "u3": None, "u4": "2002", "u5": None}
        kind, expires, revoked = tokens["u4"]
        assert kind == "login" and revoked is None
        expires = datetime.fromisoformat(expires) if isinstance(expires, str) else expires
        assert abs(expires - (now + timedelta(days=90))) < timedelta(minutes=5)
        assert tokens["u5"][2] is not None  # the deactivated user's token is revoked
        assert model_diff() == []
    finally:
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM api_tokens"))
            conn.execute(sa.text("DELETE FROM users"))


def test_0006_gives_existing_tickets_the_warning_moments_every_reader_used(app, ctx, world):
    """Upgrading a database from before 0006: each ticket's warning moments are
    createdAt + SLA_WARNING_FRACTION (0.75) of each window, as the board, the queue,
    the sweep and analytics computed them until then, to the second on both backends."""
    from datetime import timedelta

    from app.models import ServiceTicket
    from tests.factories import make_ticket

    ticket = make_ticket(world)
    db.session.commit()
    created, response_due, resolution_due = ticket.created_at, ticket.response_due_at, ticket.resolution_due_at
    ticket_id = ticket.id
    db.session.remove()
    downgrade(revision="0005")
    try:
        upgrade()
        t = db.session.get(ServiceTicket, ticket_id)
        for warn, due in ((t.response_warn_at, response_due), (t.resolution_warn_at, resolution_due)):
            assert abs(warn - (created + (due - created) * 0.75)) < timedelta(milliseconds=2)
        assert model_diff() == []
    finally:
        db.session.remove()
        upgrade()


def test_rebuilding_tables_keeps_every_ticket_and_its_timeline(app, ctx, world):
    """Migrations 0015 and 0017 rebuild `service_tickets` and `customer_branches` on SQLite
    (batch mode: copy, drop, rename). Dropping a parent table with foreign keys on
    deletes its rows first, cascading to every child: a store's tickets, their timelines
    and photos would vanish in an upgrade. Upgrading from 0014 keeps all of them."""
    import sqlalchemy as sa

    from app.models import TicketEvent, TicketPhoto
    from tests.factories import make_ticket

    ticket = make_ticket(world)
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="comment", data={"text": "kept"}))
    db.session.add(TicketPhoto(ticket_id=ticket.id, type="before", storage_key="k", thumb_key="t",
                               content_type="image/jpeg", width=1, height=1, size_bytes=1))
    db.session.commit()
    counts = "SELECT (SELECT count(*) FROM service_tickets), (SELECT count(*) FROM ticket_events), " \
             "(SELECT count(*) FROM ticket_photos), (SELECT count(*) FROM customer_branches)"
    with db.engine.connect() as conn:
        before = tuple(conn.execute(sa.text(counts)).one())
    assert before[0] >= 1 and before[1] >= 1 and before[2] == 1
    db.session.remove()
    downgrade(revision="0014")
    try:
        upgrade()
        with db.engine.connect() as conn:
            assert tuple(conn.execute(sa.text(counts)).one()) == before
        assert model_diff() == []
    finally:
        db.session.remove()
        upgrade()
