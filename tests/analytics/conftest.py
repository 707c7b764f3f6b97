"""A hand-built November for the analytics tests.

Every ticket is played through the real services while the clock moves, so the
timeline events, due times and completions are what the app itself records. The
expected figures in the tests were worked out by hand from the story below
(APP_TIMEZONE=Asia/Tashkent, UTC+5 all year; SLA minutes are the seeded defaults:
response C60 H240 N1440 L2880, resolution C240 H1440 N2880 L4320; labour 45.00/h).

  T1 FM-001 Cold Chambers HIGH   created 10-31 20:30Z (01 Nov 01:30 local) -> Timur;
     accepted 21:30Z (60 min), arrived 22:00Z (90 min); completed 11-01 02:30Z
     (2 h + fan 100.00), REJECTED 03:00Z; completed again 04:30Z (3 h + 2 relays
     at 75.00 = 285.00), approved 05:00Z.  Resolution 480 min <= 1440: met.
  T2 FM-002 Cold Chambers NORMAL created 10-30 10:00Z (October) -> Sardor; accepted
     11:00Z; completed 10-31 19:00Z (exactly local midnight of 1 Nov; 1 h = 45.00);
     approved 10-31 20:30Z = 01 Nov 01:30 local: November's cost, not October's.
  T3 FM-002 Glass Repair NORMAL  created 10-29 08:00Z -> Sardor; accepted 09:00Z;
     completed 10-31 17:00Z (2 h + glass 300.00 = 390.00); approved 18:30Z = 31 Oct
     23:30 local: October.
  T4 FM-001 Cold Chambers CRITICAL created 11-10 04:00Z -> Timur; no answer; the SLA
     sweep at 05:01Z escalates it to Sardor; Sardor accepts 05:30Z (90 min > 60:
     missed), arrives 06:00Z (120 min), completes 09:00Z (1.5 h = 67.50; 300 min >
     240: missed), approved 10:00Z.  A repeat fault: T1 was closed 9 days before.
  T5 FM-002 Cold Chambers NORMAL created 11-12 06:00Z -> Sardor, who declines 07:00Z
     -> Timur (secondary) accepts 08:00Z (120 min: met); still IN_PROGRESS: its
     resolution (due 11-14 06:00Z) is missed.  Repeat of T2 (closed 12 days before).
  T6 CL-001 Temperature LOW      created 11-15 09:00Z -> Olim; closed without
     completion 10:00Z, before anything was due: not measured at all.
  T7 CL-001 Temperature NORMAL   created 11-16 09:00Z -> Olim; never answered:
     response and resolution missed.  Not a repeat (T6 was closed without work).
  T8 FM-001 Cold Chambers NORMAL created 11-20 11:00Z -> Timur; open, nothing due
     yet: not measured, not at risk.  Repeat of T4/T1.
  T9 FM-001 Glass Repair HIGH    created 11-20 08:30Z -> Timur; unanswered, 210 of
     240 response minutes used: at risk (due soon), not measured.
  T10 FM-002 Temperature CRITICAL created 11-18 00:00Z -> Sardor; accepted 00:30Z
     (30 min: met), completed 02:00Z (1 h + thermostat 55.50) on time and still
     awaiting approval: resolution not measured yet, no approved cost.

"Now" is 2026-11-20 12:00Z.
"""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApprovalStatus, ServiceCompletion, TicketPriority
from app import clock
from app.services import completions, photos, sla, tickets
from tests.factories import jpeg_bytes, make_ticket, signature_data_url
from tests.helpers import count_statements

NOW = "2026-11-20T12:00:00Z"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


class Story:
    """Plays tickets through the services at given instants, committing each step."""

    def __init__(self, world):
        self.w = world

    def _at(self, when: str) -> None:
        clock.set_now(at(when))

    def _t(self, ticket):
        return tickets.get_ticket(ticket if isinstance(ticket, str) else ticket.id)

    def create(self, when, *, branch=None, sub="Cold Chambers", priority=TicketPriority.NORMAL) -> str:
        self._at(when)
        t = make_ticket(self.w, branch=branch or self.w.branch, subcategory=self.w.subcategories[sub],
                        priority=priority)
        db.session.commit()
        return t.id

    def accept(self, tid, user, when):
        self._at(when)
        tickets.accept(self._t(tid), user)
        db.session.commit()

    def arrive(self, tid, user, when):
        self._at(when)
        tickets.arrive(self._t(tid), user)
        db.session.commit()

    def decline(self, tid, user, when, reason="Too far today"):
        self._at(when)
        tickets.decline(self._t(tid), reason, user)
        db.session.commit()

    def close(self, tid, when, reason="Duplicate report"):
        self._at(when)
        tickets.close_without_completion(self._t(tid), reason, self.w.dispatcher)
        db.session.commit()

    def sweep(self, when):
        sla.escalate_overdue(at(when))
        db.session.commit()

    def complete(self, tid, user, when, hours, parts=()):
        self._at(when)
        t = self._t(tid)
        photos.add_photo(t, user, jpeg_bytes(64, 48), "after", "Done", "after.jpg")
        db.session.commit()
        completions.complete(self._t(tid), user, {
            "workDescription": "Repaired", "laborHours": hours, "laborCostPerHour": "45.00",
            "partsUsed": [{"name": n, "quantity": q, "unitCost": u} for n, q, u in parts]})
        db.session.commit()

    def _pending(self, tid):
        c = db.session.execute(select(ServiceCompletion).where(
            ServiceCompletion.ticket_id == tid, ServiceCompletion.approval_status == ApprovalStatus.PENDING)
        ).scalar_one()
        return completions.get_completion(c.id)

    def approve(self, tid, when):
        self._at(when)
        completions.decide(self._pending(tid), self.w.admin,
                           {"action": "approve", "signedBy": "Dilnoza K.", "signature": signature_data_url()})
        db.session.commit()

    def reject(self, tid, when, reason="Still warm"):
        self._at(when)
        completions.decide(self._pending(tid), self.w.admin, {"action": "reject", "reason": reason})
        db.session.commit()

    def approved_ticket(self, created, closed, *, branch=None, sub="Cold Chambers", hours="1", parts=(),
                        user=None) -> str:
        """Created, accepted a minute later, completed and approved at `closed`."""
        user = user or self.w.tech
        tid = self.create(created, branch=branch, sub=sub)
        created_at = at(created)
        from datetime import timedelta

        self.accept(tid, user, (created_at + timedelta(minutes=1)).isoformat())
        self.complete(tid, user, (created_at + timedelta(minutes=2)).isoformat(), hours, parts)
        self.approve(tid, closed)
        return tid


@pytest.fixture
def tashkent(app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Asia/Tashkent")
    return "Asia/Tashkent"


@pytest.fixture
def story(world):
    return Story(world)


@pytest.fixture
def november(world, story, tashkent):
    """The ten tickets of the module docstring; the clock left at NOW."""
    w, s = world, story
    tech, tech2, olim = w.tech, w.tech2, w.outsider_tech  # Timur, Sardor, Olim
    ids = SimpleNamespace()

    ids.t3 = s.create("2026-10-29T08:00:00Z", branch=w.branch2, sub="Glass Repair")
    s.accept(ids.t3, tech2, "2026-10-29T09:00:00Z")
    s.complete(ids.t3, tech2, "2026-10-31T17:00:00Z", "2", [("Glass pane", "1", "300.00")])
    s.approve(ids.t3, "2026-10-31T18:30:00Z")

    ids.t2 = s.create("2026-10-30T10:00:00Z", branch=w.branch2)
    s.accept(ids.t2, tech2, "2026-10-30T11:00:00Z")
    s.complete(ids.t2, tech2, "2026-10-31T19:00:00Z", "1")
    s.approve(ids.t2, "2026-10-31T20:30:00Z")

    ids.t1 = s.create("2026-10-31T20:30:00Z", priority=TicketPriority.HIGH)
    s.accept(ids.t1, tech, "2026-10-31T21:30:00Z")
    s.arrive(ids.t1, tech, "2026-10-31T22:00:00Z")
    s.complete(ids.t1, tech, "2026-11-01T02:30:00Z", "2", [("Fan", "1", "100.00")])
    s.reject(ids.t1, "2026-11-01T03:00:00Z")
    s.complete(ids.t1, tech, "2026-11-01T04:30:00Z", "3", [("Compressor relay", "2", "75.00")])
    s.approve(ids.t1, "2026-11-01T05:00:00Z")

    ids.t4 = s.create("2026-11-10T04:00:00Z", priority=TicketPriority.CRITICAL)
    s.sweep("2026-11-10T05:01:00Z")
    s.accept(ids.t4, tech2, "2026-11-10T05:30:00Z")
    s.arrive(ids.t4, tech2, "2026-11-10T06:00:00Z")
    s.complete(ids.t4, tech2, "2026-11-10T09:00:00Z", "1.5")
    s.approve(ids.t4, "2026-11-10T10:00:00Z")

    ids.t5 = s.create("2026-11-12T06:00:00Z", branch=w.branch2)
    s.decline(ids.t5, tech2, "2026-11-12T07:00:00Z")
    s.accept(ids.t5, tech, "2026-11-12T08:00:00Z")

    ids.t6 = s.create("2026-11-15T09:00:00Z", branch=w.other_branch, sub="Temperature Control",
                      priority=TicketPriority.LOW)
    s.close(ids.t6, "2026-11-15T10:00:00Z")

    ids.t7 = s.create("2026-11-16T09:00:00Z", branch=w.other_branch, sub="Temperature Control")

    ids.t10 = s.create("2026-11-18T00:00:00Z", branch=w.branch2, sub="Temperature Control",
                       priority=TicketPriority.CRITICAL)
    s.accept(ids.t10, tech2, "2026-11-18T00:30:00Z")
    s.complete(ids.t10, tech2, "2026-11-18T02:00:00Z", "1", [("Thermostat", "1", "55.50")])

    ids.t9 = s.create("2026-11-20T08:30:00Z", sub="Glass Repair", priority=TicketPriority.HIGH)
    ids.t8 = s.create("2026-11-20T11:00:00Z")

    clock.set_now(at(NOW))
    return SimpleNamespace(world=w, ids=ids)


# --- pages (signed_in comes from tests/conftest.py) -------------------------------------

def _not_loading_a_user(statement: str) -> bool:
    return "FROM users" not in statement.split("WHERE")[0]


@pytest.fixture
def count_queries(app):
    """with count_queries() as statements: ... collects the queries sent (SELECT/WITH),
    leaving out the signed-in user's loading."""
    return lambda: count_statements(only=("SELECT", "WITH"), keep=_not_loading_a_user)
