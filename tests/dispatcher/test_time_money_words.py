"""Issue 15, items 7-9: every time a person reads is in APP_TIMEZONE with one 24-hour
style (the zone shown on due times), every amount carries the currency, the labour rate
is the office's, and no page shows a raw enum value."""
from __future__ import annotations

import html as htmllib
import io
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import ServiceTicket
from app.services import completions, photos, tickets
from app.services.notifications import texts
from tests.conftest import new_client, sign_in
from tests.dispatcher.helpers import WORK, approved, completed
from tests.factories import jpeg_bytes, make_ticket


@pytest.fixture
def settings(app):
    """settings(APP_TIMEZONE=..., CURRENCY=...) for one test; put back afterwards."""
    saved = {}

    def _set(**values):
        for k, v in values.items():
            saved.setdefault(k, app.config[k])
            app.config[k] = v

    yield _set
    app.config.update(saved)


def _client(app, user):
    return sign_in(new_client(app), user)


def _pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)  # a narrow column may wrap a line


# --- 7. times ---------------------------------------------------------------------

def test_a_due_time_is_five_hours_ahead_of_utc_with_its_zone_on_the_page_the_pdf_and_telegram(
        app, world, freeze, settings):
    """APP_TIMEZONE=Asia/Tashkent: the response due at 09:00 UTC reads 14:00 UTC+5."""
    settings(APP_TIMEZONE="Asia/Tashkent")
    freeze("2026-11-24T08:00:00Z")
    t = make_ticket(world)  # NORMAL cold chamber: respond within 1440 min
    db.session.commit()
    assert t.response_due_at == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)

    page = _client(app, world.dispatcher).get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "Technician must respond by</dt><dd>25 Nov 13:00 UTC+5</dd>" in page
    assert "08:00" not in page.split("Technician must respond by", 1)[1][:60]  # not the UTC time

    text = texts.ticket_text("ticket_assigned", t, {})  # what Telegram and the in-app item say
    assert "Response due: 25 Nov 13:00 UTC+5" in text
    assert "Due 25 Nov 13:00 UTC+5" in texts.sms_text("New ticket", t, "http://x/t")

    tickets.close_without_completion(t, "Duplicate", world.dispatcher)
    db.session.commit()
    pdf = _client(app, world.dispatcher).get(f"/tickets/{t.id}/report.pdf")
    assert pdf.status_code == 200
    body = _pdf_text(pdf.get_data())
    assert "due 25 Nov 2026 13:00 UTC+5" in body
    assert "times in UTC+5" in body


def test_the_timeline_says_when_with_the_zone_in_24_hours(app, world, freeze, settings):
    settings(APP_TIMEZONE="Asia/Tashkent")
    freeze("2026-11-24T13:30:00Z")  # 18:30 in Tashkent
    t = make_ticket(world)
    db.session.commit()
    page = _client(app, world.dispatcher).get(f"/tickets/{t.id}").get_data(as_text=True)
    assert ">24 Nov 18:30 UTC+5</time>" in page
    assert not re.search(r"\b\d{1,2}:\d\d ?(AM|PM)\b", page)


def test_the_page_tells_the_browser_the_app_zone(app, world, settings):
    settings(APP_TIMEZONE="Asia/Tashkent")
    page = _client(app, world.tech).get("/tech/dashboard").get_data(as_text=True)
    assert 'data-timezone="Asia/Tashkent"' in page and 'data-zone-label="UTC+5"' in page


# --- 8. money ---------------------------------------------------------------------

def test_every_amount_names_the_currency(app, world, settings):
    settings(CURRENCY="EUR")
    t, c = approved(world)  # 1 h x 45.00 + a 12.50 seal
    staff = _client(app, world.dispatcher)
    page = staff.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "€12.50" in page and "€45.00" in page and "€57.50" in page
    assert "€57.50" in _pdf_text(staff.get(f"/tickets/{t.id}/report.pdf").get_data())
    assert "€57.50" in _client(app, world.manager).get(f"/tickets/{t.id}/report").get_data(as_text=True)

    day = t.closed_at.date().isoformat()
    csv = staff.get(f"/dispatcher/analytics/cost-branch.csv?from={day}&to={day}").get_data(as_text=True)
    header = csv.splitlines()[0]
    assert "Total cost (EUR)" in header and "Parts cost (EUR)" in header
    analytics = staff.get(f"/dispatcher/analytics?from={day}&to={day}").get_data(as_text=True)
    assert "€57.50" in analytics


def test_the_technician_works_at_the_rate_the_office_set(app, world, settings):
    """A dispatcher sets Timur's rate; his completion form shows it read-only with the
    currency, and a rate sent with the form is ignored (the office sets it)."""
    form = _client(app, world.dispatcher)
    url = f"/dispatcher/technicians/{world.primary.id}"
    assert "Labour rate per hour (USD)" in form.get(url).get_data(as_text=True)
    resp = form.post(url, data={"name": "Timur Primary", "phone": "+998900000001", "status": "ACTIVE",
                                "laborRate": "60"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert world.primary.labor_rate == Decimal("60.00")

    t = make_ticket(world)
    tickets.accept(t, world.tech)
    photos.add_photo(t, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    db.session.commit()
    tech = _client(app, world.tech)
    page = tech.get(f"/tech/tickets/{t.id}/complete").get_data(as_text=True)
    assert ">$60.00</output>" in page and 'name="laborCostPerHour"' not in page
    resp = tech.post(f"/tech/tickets/{t.id}/complete", data={
        "workDescription": "Door seal", "laborHours": "2", "laborCostPerHour": "1.00"})
    assert resp.status_code == 303
    db.session.expire_all()
    c = db.session.get(ServiceTicket, t.id).completion
    assert (c.labor_cost_per_hour, c.labor_cost) == (Decimal("60.00"), Decimal("120.00"))

    # Back to the company's rate: the field emptied.
    form.post(url, data={"name": "Timur Primary", "phone": "+998900000001", "status": "ACTIVE", "laborRate": ""})
    db.session.expire_all()
    assert world.primary.labor_rate is None
    assert "$45.00" in form.get(url).get_data(as_text=True)  # the hint names the company's rate


def test_a_bad_rate_is_refused_and_changes_nothing(app, world):
    form = _client(app, world.dispatcher)
    url = f"/dispatcher/technicians/{world.primary.id}"
    resp = form.post(url, data={"name": "Renamed", "phone": "+998900000001", "status": "ACTIVE",
                                "laborRate": "-5"})
    assert resp.status_code == 400
    assert "Labour rate per hour (USD)" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (world.primary.name, world.primary.labor_rate) == ("Timur Primary", None)


def test_the_api_keeps_labor_cost_per_hour_and_without_it_uses_the_technicians_rate(app, world, api):
    world.primary.labor_rate = Decimal("52.00")
    db.session.commit()
    t, _ = completed(world)  # WORK sends laborCostPerHour 45.00: the contract's field is kept
    assert t.completion.labor_cost_per_hour == Decimal("45.00")

    t2 = make_ticket(world)
    tickets.accept(t2, world.tech)
    photos.add_photo(t2, world.tech, jpeg_bytes(), "after", None, "after.jpg")
    db.session.commit()
    body = {k: v for k, v in WORK.items() if k != "laborCostPerHour"}
    resp = api.as_(world.tech).post(f"/api/tickets/{t2.id}/complete", json=body)
    assert resp.status_code == 201, resp.json
    assert resp.json["laborCostPerHour"] == "52.00" and resp.json["totalCost"] == "64.50"
    assert api.as_(world.dispatcher).get(f"/api/technicians/{world.primary.id}").json["laborRate"] == "52.00"


# --- 9. words ---------------------------------------------------------------------

RAW = re.compile(
    r"\b(NEW|ASSIGNED|IN_PROGRESS|IN PROGRESS|COMPLETED|CLOSED|CRITICAL|HIGH|NORMAL|LOW|PENDING|APPROVED|REJECTED"
    r"|ACTIVE|INACTIVE|ON_LEAVE|ON LEAVE|PENDING_APPROVAL|store_manager|in_app"
    r"|[a-z]+_[a-z_]+|[A-Z]+_[A-Z_]+)\b"
    r"|\bSla\b|\b\d{3,} min\b")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return htmllib.unescape(page)


def _every_page(app, world, scene) -> list[str]:
    """Every GET page of the app, its path parameters filled from the scene."""
    values = {
        "ticket_id": [t.id for t in scene], "technician_id": [world.primary.id],
        "branch_id": [world.branch.id], "category_id": [world.category.id],
        "subcategory_id": [world.subcategory.id],
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api", "/static", "/photos", "/signatures")) \
                or rule.rule.endswith((".pdf", ".csv")):
            continue
        args = list(rule.arguments)
        if any(a not in values for a in args):
            continue
        if not args:
            urls.append(rule.rule)
            continue
        for tid in values.get("ticket_id", [None]) if "ticket_id" in args else [None]:
            url = rule.rule
            for a in args:
                url = url.replace(f"<{a}>", tid if a == "ticket_id" else values[a][0])
            urls.append(url)
    return sorted(set(urls))


def test_no_page_of_any_role_shows_a_raw_value(app, world, freeze):
    freeze("2026-11-24T08:00:00Z")
    from app.models import TicketPriority

    scene = [make_ticket(world, priority=p) for p in TicketPriority]  # NEW / ASSIGNED
    working = make_ticket(world, priority=TicketPriority.HIGH)
    tickets.accept(working, world.tech)
    done, c = completed(world, priority=TicketPriority.CRITICAL)
    closed, _ = approved(world)
    sent_back, c2 = completed(world)
    completions.decide(c2, world.manager, {"action": "reject", "reason": "Still warm"})
    tickets.change_priority(scene[0], TicketPriority.LOW, world.dispatcher)
    db.session.commit()
    scene += [working, done, closed, sent_back]

    problems = []
    for user in (world.admin, world.dispatcher, world.tech, world.manager):
        client = _client(app, user)
        for url in _every_page(app, world, scene):
            resp = client.get(url)
            if resp.status_code != 200 or not resp.mimetype.startswith("text/html"):
                continue
            for m in RAW.finditer(visible_text(resp.get_data(as_text=True))):
                problems.append(f"{user.role.value} {url}: {m.group(0)!r}")
    from app import clock

    clock.advance(hours=5)  # the critical and high tickets are now overdue: at risk
    at_risk = _client(app, world.dispatcher).get("/dispatcher/analytics/at-risk.csv?from=2026-11-01&to=2026-11-30")
    assert at_risk.status_code == 200 and "High" in at_risk.get_data(as_text=True)
    problems += [f"at-risk.csv: {m.group(0)!r}" for m in RAW.finditer(at_risk.get_data(as_text=True))]
    assert not problems, "\n".join(sorted(set(problems))[:60])
