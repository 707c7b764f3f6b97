"""Fixtures for the store manager workspace: signing in through the real login form,
a ticket taken to "waiting for approval" through the services, and a query counter."""
from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import TicketPriority
from app.services import completions, photos, tickets
from tests.factories import PASSWORD, jpeg_bytes, make_ticket
from tests.helpers import TRANSACTION_CONTROL, count_statements


@pytest.fixture
def login(client):
    """login(user): sign in through /login (the session cookie stays on `client`)."""

    def _login(user):
        client.post("/logout")
        r = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)
        return client

    return _login


def finished_ticket(world, *, by=None, priority=TicketPriority.NORMAL, before_photo=True, parts=None):
    """A ticket of world.branch that the technician accepted, photographed and completed:
    it waits for the store manager's approval. Committed."""
    t = make_ticket(world, by=by or world.manager, priority=priority)
    if before_photo:
        photos.add_reporter_photo(t, by or world.manager, jpeg_bytes(color=(20, 20, 200)), "before.jpg")
    tickets.accept(t, world.tech)
    tickets.arrive(t, world.tech)
    photos.add_photo(t, world.tech, jpeg_bytes(color=(20, 200, 20)), "after", "Fixed", "after.jpg")
    completions.complete(t, world.tech, {
        "workDescription": "Replaced the fan motor and refilled R404A.",
        "laborHours": "1.5", "laborCostPerHour": "40.00",
        "partsUsed": parts if parts is not None else [
            {"name": "Fan motor", "quantity": 1, "unitCost": "120.50"},
            {"name": "R404A refrigerant (kg)", "quantity": 2, "unitCost": "15.25"},
        ],
    }, Decimal("40.00"))
    db.session.commit()
    return t


@pytest.fixture
def count_queries(app):
    """with count_queries() as n: ...; n() is the number of SQL statements run."""

    @contextmanager
    def _count():
        with count_statements(skip=TRANSACTION_CONTROL) as statements:
            yield lambda: len(statements)

    return _count
