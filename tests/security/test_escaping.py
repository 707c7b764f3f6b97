"""Stored text is data, never markup or a formula: descriptions, notes, captions, work
reports, names and rejection reasons full of <script>, quotes and =cmd| are escaped on
every page that shows them, in Telegram messages (HTML parse mode), and neutralised in
CSV exports (a cell never starts with = + - @)."""
import csv
import io

import pytest

from app.extensions import db
from app.services import completions, tickets
from tests.factories import jpeg_bytes, make_ticket
from tests.notifications.conftest import channels, linked, standin  # noqa: F401  (fixtures)
from tests.security.conftest import build_scene
from tests.security.test_headers import HTML_PAGES
from tests.security.test_page_access_matrix import PAGES

PAYLOAD = """=cmd|' /C calc'!A0 <script>alert("x")</script> "quoted" 'single' --><img src=x onerror=alert(1)> @SUM(1)"""
RAW_MARKUP = ("<script>alert", "<img src=x", "onerror=alert(1)>")


def poison(w):
    """Every name a page shows, and every free-text field, set to PAYLOAD."""
    w.customer.name = "+" + PAYLOAD
    w.branch.branch_name = "-" + PAYLOAD
    w.branch.address = PAYLOAD
    w.branch.contact_person = "@" + PAYLOAD
    w.primary.name = PAYLOAD
    w.subcategory.name = "=" + PAYLOAD
    w.category.name = PAYLOAD + " cat"
    for user in (w.tech, w.manager, w.dispatcher, w.admin):
        user.name = PAYLOAD
    db.session.commit()
    s = build_scene(w, text=PAYLOAD)
    tickets.patch(s.assigned, {"internalNotes": PAYLOAD, "storeNotes": PAYLOAD}, w.dispatcher)
    # a rejected piece of work: the reason is shown to the technician, dispatcher and store
    s.rejected = make_ticket(w, by=w.manager, description=PAYLOAD)
    tickets.accept(s.rejected, w.tech)
    from app.services import photos

    photos.add_photo(s.rejected, w.tech, jpeg_bytes(), "after", PAYLOAD, "a.jpg")
    c = completions.complete(s.rejected, w.tech, {"workDescription": PAYLOAD, "laborHours": "1",
                                                  "laborCostPerHour": "10"})
    completions.decide(c, w.manager, {"action": "reject", "reason": PAYLOAD})
    db.session.commit()
    return s


def assert_escaped(html: str, where: str):
    for raw in RAW_MARKUP:
        assert raw not in html, f"{where}: unescaped {raw!r}"


@pytest.mark.sqlite_only
@pytest.mark.parametrize("route_name,actor", HTML_PAGES, ids=[f"{p}|{a}" for p, a in HTML_PAGES])
def test_stored_text_is_escaped_on_every_page(world, as_actor, backend, route_name, actor):
    scene = poison(world)
    client = as_actor(actor)
    r = PAGES[route_name][2](world, scene, client, actor)
    assert r.status_code in (200, 286), r.status_code
    if r.mimetype == "text/html":
        assert_escaped(r.get_data(as_text=True), route_name)


def test_the_rejection_reason_and_notes_are_escaped_where_they_are_shown(world, as_actor):
    scene = poison(world)
    pages = {
        "tech": [f"/tickets/{scene.rejected.id}", "/tech/dashboard", f"/tech/tickets/{scene.rejected.id}/complete",
                 "/notifications"],
        "dispatcher": [f"/tickets/{scene.rejected.id}", f"/tickets/{scene.assigned.id}", "/dispatcher/tickets",
                       "/notifications", "/dispatcher/branches", "/dispatcher/technicians", "/dispatcher/categories",
                       "/dispatcher/analytics"],
        "mgr": [f"/tickets/{scene.rejected.id}", f"/tickets/{scene.assigned.id}", "/store",
                "/notifications"],
        "admin": [f"/tickets/{scene.done.id}/report", f"/tickets/{scene.waiting.id}/approve"],
    }
    shown = 0
    for actor, paths in pages.items():
        client = as_actor(actor)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            html = r.get_data(as_text=True)
            assert_escaped(html, path)
            shown += "&lt;script&gt;alert(" in html
    assert shown >= 10  # the text is really there, escaped


def test_the_pdf_report_renders_stored_markup_as_text(world, as_actor):
    scene = poison(world)
    r = as_actor("mgr").get(f"/tickets/{scene.done.id}/report.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_telegram_messages_escape_stored_text(world, linked, channels):  # noqa: F811
    ticket = make_ticket(world, description=PAYLOAD)
    db.session.commit()
    tickets.accept(ticket, world.tech)
    db.session.commit()
    sent = [r for r in channels.requests if r.api_method in ("sendMessage", "editMessageText") and r.body]
    assert sent, "no Telegram message was sent"
    for rec in sent:
        assert rec.body.get("parse_mode") == "HTML"
        text = rec.body["text"]
        assert_escaped(text, "telegram")
    assert any("&lt;script&gt;" in rec.body["text"] for rec in sent)


def _cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def test_csv_exports_neutralise_formulas(world, as_actor):
    from app.blueprints.analytics.tables import TABLES

    poison(world)
    client = as_actor("dispatcher")
    seen = 0
    for key in TABLES:
        r = client.get(f"/dispatcher/analytics/{key}.csv")
        assert r.status_code == 200, key
        assert r.mimetype == "text/csv"
        for cell in _cells(r.data):
            if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _is_number(cell)):
                pytest.fail(f"{key}.csv: a cell starts with a formula character: {cell[:40]!r}")
            seen += PAYLOAD[1:20] in cell
    assert seen, "the poisoned names appear in no export"


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
