"""Fixtures for the security suite: a scene with tickets in every state on two
customers' branches, and test clients signed in as each kind of actor."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus
from app.services import calendar_admin, completions, equipment, pauses, photos, tickets
from tests.conftest import UserClient, new_client, sign_in  # noqa: F401  (UserClient: for test_csrf)
from tests.factories import jpeg_bytes, make_ticket, signature_data_url

#: actor name -> attribute of the world (None: signed out)
ACTORS = {"anon": None, "admin": "admin", "dispatcher": "dispatcher", "tech": "tech", "tech_other": "outsider_tech",
          "mgr": "manager", "mgr_other": "other_manager"}


@pytest.fixture
def as_actor(app, world):
    """as_actor("mgr") -> a client signed in as that actor ("anon": signed out)."""

    def _as(name):
        attr = ACTORS[name]
        client = new_client(app)
        return sign_in(client, getattr(world, attr)) if attr else client

    return _as


WORK = {"workDescription": "Replaced the fan motor", "laborHours": "1.5", "laborCostPerHour": "40.00",
        "partsUsed": [{"name": "Fan motor", "quantity": 1, "unitCost": "120.50"}]}


def build_scene(w, text: str | None = None) -> SimpleNamespace:
    """Tickets of world.branch in every state (assigned; in progress with a photo;
    waiting for approval; approved with a signature) and one of the other customer's
    branch. `text` (if given) goes into every free-text field."""
    desc = text or "Cold chamber at 12C"
    s = SimpleNamespace()
    # a unit of the tickets' branch: its QR report page (/r/<token>)
    s.qr_unit = equipment.create_unit(w.dispatcher, {"branchId": w.branch.id, "assetTag": "QR-001",
                                                     "kind": "COLD_ROOM", "name": "Cold room"})
    s.qr_url = f"/r/{s.qr_unit.report_token}"
    # a working calendar (no branch uses it: the tickets below count around the clock)
    s.calendar = calendar_admin.create_calendar({
        "name": (text or "Company week")[:120], "timezone": "Asia/Tashkent", "country": "UZ",
        "week": {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
        "holidays": ["2026-12-08"]}, w.dispatcher)
    s.assigned = make_ticket(w, description=desc)
    s.in_progress = make_ticket(w, by=w.manager, description=desc)
    tickets.accept(s.in_progress, w.tech)
    s.photo = photos.add_photo(s.in_progress, w.tech, jpeg_bytes(), "before", text, "before.jpg")
    # Paused in the scene (not mid-request: the CSRF sweep holds SQLite's write lock then).
    s.paused = make_ticket(w, by=w.manager, description=desc)
    tickets.accept(s.paused, w.tech)
    pauses.pause_ticket(s.paused, w.tech, "WAITING_PARTS", text or None)
    s.waiting = make_ticket(w, by=w.manager, description=desc)
    tickets.accept(s.waiting, w.tech)
    tickets.arrive(s.waiting, w.tech)
    photos.add_photo(s.waiting, w.tech, jpeg_bytes(color=(0, 200, 0)), "after", text, "after.jpg")
    work = dict(WORK, workDescription=text or WORK["workDescription"],
                partsUsed=[{"name": text or "Fan motor", "quantity": 1, "unitCost": "120.50"}])
    s.waiting_completion = completions.complete(s.waiting, w.tech, work, Decimal("40.00"))
    s.done = make_ticket(w, by=w.manager, description=desc)
    tickets.accept(s.done, w.tech)
    photos.add_photo(s.done, w.tech, jpeg_bytes(color=(0, 0, 200)), "after", text, "after.jpg")
    s.done_completion = completions.complete(s.done, w.tech, work, Decimal("40.00"))
    completions.decide(s.done_completion, w.manager,
                       {"action": "approve", "signedBy": text or "Dilnoza K.", "signature": signature_data_url()})
    s.other = make_ticket(w, branch=w.other_branch, by=w.other_manager,
                          description="SECRET-OTHER-BRANCH compressor noise")
    tickets.accept(s.other, w.outsider_tech)
    s.other_photo = photos.add_photo(s.other, w.outsider_tech, jpeg_bytes(), "before", None, "o.jpg")
    s.failed = Notification(user_id=w.tech.id, channel=NotificationChannel.SMS, kind="ticket_assigned",
                            title=text or "Assigned", body=text or "b", status=NotificationStatus.FAILED)
    db.session.add(s.failed)
    db.session.commit()
    return s


@pytest.fixture
def scene(world):
    return build_scene(world)


def own_notification(user):
    return db.session.query(Notification).filter_by(user_id=user.id, channel=NotificationChannel.IN_APP).first()


@pytest.fixture(scope="session")
def app_with(app):
    """app_with(WTF_CSRF_ENABLED=True, ...) -> an app like `app` (same database, same
    upload folder, so `world` is there) with some settings changed."""
    from app import create_app

    made = {}

    def _make(**overrides):
        key = tuple(sorted(overrides.items()))
        if key not in made:
            made[key] = create_app({**{k: v for k, v in app.config.items() if k.isupper()}, **overrides})
        return made[key]

    yield _make
    for other in made.values():
        with other.app_context():
            db.engine.dispose()
