"""Ticket search (issue 16 item 6, docs/search.md): `q` finds the same tickets on SQLite
and PostgreSQL (a substring of the number, the external id or the description, in any
case, in any alphabet, with % _ \\ taken literally), PostgreSQL answers it from the
trigram index of migration 0012, and writes keep the search up to date."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import ServiceTicket
from app.services import ticket_queries
from tests.factories import make_ticket

DESCRIPTIONS = {
    "ru": "Холодильник не морозит, на витрине +9°C",
    "uz": "Sovutgich ishlamayapti, kompressor shovqin qilmoqda",
    "en": "Glass door cracked; Compressor noise at night",
    "odd": r"Seal 50%_worn, gasket C:\parts\seal replaced",
    "plain": "Water leaking under the fridge",
}


@pytest.fixture
def made(world):
    tickets = {key: make_ticket(world, description=text_) for key, text_ in DESCRIPTIONS.items()}
    tickets["plain"].external_id = "CRM-Alpha-7781"
    db.session.commit()
    return tickets


def found(api, world, q):
    r = api.as_(world.dispatcher).get("/api/tickets", query_string={"q": q, "limit": 100})
    assert r.status_code == 200, r.get_json()
    return {t["ticketNumber"] for t in r.get_json()["items"]}


@pytest.mark.parametrize("q,keys", [
    ("compressor", {"en"}),                      # a rare word, any case
    ("COMPRESSOR", {"en"}),
    ("kompressor", {"uz"}),
    ("холодильник", {"ru"}),                     # Cyrillic, folded like PostgreSQL's ILIKE
    ("ХОЛОДИЛЬНИК", {"ru"}),
    ("SOVUTGICH", {"uz"}),
    ("crm-alpha", {"plain"}),                    # the external id, any case
    ("alpha-7781", {"plain"}),
    ("50%_", {"odd"}),                           # % and _ literally
    ("%", {"odd"}),
    ("_w", {"odd"}),
    ("_z", set()),
    (r"C:\parts", {"odd"}),                      # a backslash literally
    ("\\", {"odd"}),
    ("no", {"en"}),                              # two characters: no trigram, same answer
    ("+9°", {"ru"}),
    ("7781 water", set()),                       # never across two fields
    ("nothing like this", set()),
])
def test_search_finds_the_same_tickets_on_every_database(world, api, made, q, keys):
    assert found(api, world, q) == {made[k].ticket_number for k in keys}


def test_search_by_number_whole_or_part(world, api, made):
    number = made["uz"].ticket_number
    assert found(api, world, number) == {number}
    assert found(api, world, number.lower()) == {number}
    assert number in found(api, world, number[-5:])


def test_search_on_the_board_and_the_list_too(world, made, signed_in):
    client = signed_in(world.dispatcher)
    for path in ("/dispatcher/tickets?q=холодильник", "/dispatcher/tickets/list?q=холодильник"):
        page = client.get(path).get_data(as_text=True)
        assert made["ru"].ticket_number in page, path
        assert made["en"].ticket_number not in page, path


def test_a_changed_description_is_found_by_its_new_words_only(world, api, made):
    from app.services import tickets

    ticket = made["plain"]
    ticket.description = "Evaporator iced over, fan blocked"
    db.session.commit()
    assert found(api, world, "evaporator") == {ticket.ticket_number}
    assert found(api, world, "leaking") == set()
    number = made["en"].ticket_number
    db.session.execute(text("DELETE FROM ticket_events WHERE ticket_id = :id"), {"id": made["en"].id})
    db.session.delete(db.session.get(ServiceTicket, made["en"].id))
    db.session.commit()
    assert number not in found(api, world, "compressor")
    assert tickets  # the service module loads with the index in place


def _fill(n: int) -> None:
    """n more tickets, copies of one with their own id, number and description."""
    from sqlalchemy import inspect

    # The columns the table has at this revision (a later migration's are not there yet).
    present = {c["name"] for c in inspect(db.engine).get_columns("service_tickets")}
    cols = [c.name for c in ServiceTicket.__table__.columns if c.name in present]
    own = {"id": "md5('fill' || i)", "ticket_number": "'FILL-' || lpad(i::text, 7, '0')",
           "external_id": "NULL",
           "description": "'Routine check ' || i || ' of the cold chamber, door seal and drain'"}
    values = ", ".join(own.get(c, f"t.{c}") for c in cols)
    db.session.execute(text(
        f"INSERT INTO service_tickets ({', '.join(cols)}) SELECT {values} "
        f"FROM generate_series(1, :n) AS i, (SELECT * FROM service_tickets LIMIT 1) AS t"), {"n": n})
    db.session.commit()
    db.session.execute(text("ANALYZE service_tickets"))
    db.session.commit()


def _plan(q: str) -> str:
    """EXPLAIN ANALYZE of the API's query (50 newest matches) for `q`."""
    stmt = ticket_queries.filtered(
        select(ServiceTicket.id).order_by(ServiceTicket.created_at.desc(), ServiceTicket.id.desc()).limit(51),
        {"q": q})
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(r[0] for r in db.session.execute(text(f"EXPLAIN ANALYZE {compiled}")))


@pytest.mark.postgres_only
def test_postgres_answers_a_rare_word_from_the_trigram_index(world, made):
    """Upgrading a database that already has tickets: migration 0012 builds the index and
    gathers the statistics of its expression, so the planner reads a rare word from the
    index, and a word in every ticket by walking the newest tickets (not all 20,000
    matches through the index); a 1-2 character query never asks the index."""
    from flask_migrate import downgrade, upgrade

    uz = made["uz"].id
    db.session.remove()
    downgrade(revision="0011")
    try:
        _fill(20_000)  # analysed before the index exists, as a database from before 0012 is
        upgrade()
        plan = _plan("Kompressor")
        assert "Bitmap Index Scan on ix_service_tickets_search" in plan, plan
        stmt = ticket_queries.filtered(select(ServiceTicket.id), {"q": "Kompressor"})
        assert [row[0] for row in db.session.execute(stmt)] == [uz]
        common = _plan("chamber")  # in all 20,000 filler tickets
        assert "ix_service_tickets_search" not in common, common
        assert "ix_service_tickets_search" not in _plan("no")
    finally:
        db.session.rollback()
        upgrade()


@pytest.mark.postgres_only
def test_the_migration_says_what_to_ask_for_when_pg_trgm_may_not_be_created(app):
    """A database user who may not create extensions gets a message naming the extension
    and the statement to ask the administrator for, and the upgrade stops."""
    import importlib.util
    from pathlib import Path

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0012_ticket_search_index.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    scratch = f"{url.database}_noext"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        conn.exec_driver_sql("DROP ROLE IF EXISTS evercold_no_extensions")
        conn.exec_driver_sql("CREATE ROLE evercold_no_extensions LOGIN")
    limited = sa.create_engine(url.set(database=scratch, username="evercold_no_extensions", password=None))
    try:
        with limited.connect() as conn, conn.begin():
            with pytest.raises(RuntimeError, match=r"needs the PostgreSQL extension pg_trgm.*CREATE EXTENSION pg_trgm"):
                migration._ensure_pg_trgm(conn)
            assert conn.execute(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")).scalar() == 0
    finally:
        limited.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}"')
            conn.exec_driver_sql("DROP ROLE IF EXISTS evercold_no_extensions")
        admin.dispose()
