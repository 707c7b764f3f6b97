"""Who is told what is written once (issue 14, item 3): one event (`notify`) and a
sweep's batch (`notify_many`) fan out through the same routing and the same SQL, so
for any kind they tell the same people on the same channels with the same words."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, TicketPriority
from app.services import notifications
from app.services.notifications.routing import CREATOR, ROUTES
from tests.factories import make_ticket


def _written(kind: str) -> set[tuple]:
    rows = db.session.execute(select(Notification.user_id, Notification.channel, Notification.title,
                                     Notification.body, Notification.status)
                              .where(Notification.kind == kind)).all()
    db.session.execute(delete(Notification).where(Notification.kind == kind))
    return {tuple(r) for r in rows}


@pytest.mark.parametrize("kind", sorted(k for k, r in ROUTES.items() if CREATOR not in r.recipients))
def test_one_event_and_a_batch_tell_the_same_people_on_the_same_channels(channels, linked, kind):
    ticket = make_ticket(linked, priority=TicketPriority.CRITICAL)  # CRITICAL: SMS where the route allows
    db.session.commit()
    _written(kind)
    extra = {"previous_technician_id": linked.secondary.id, "reason": "On another job"}
    notifications.notify(kind, ticket, None, **extra)
    one = _written(kind)
    notifications.notify_many([(kind, ticket, extra)])
    batch = _written(kind)
    db.session.rollback()
    assert one and one == batch
    assert {channel.value for _, channel, *_ in one} >= {"in_app", "telegram"}


def test_the_reporting_store_manager_hears_that_the_ticket_was_received(channels, linked):
    ticket = make_ticket(linked, by=linked.manager)
    db.session.commit()
    rows = db.session.execute(select(Notification.user_id, Notification.channel)
                              .where(Notification.kind == "ticket_created")).all()
    assert {(u, c.value) for u, c in rows} == {(linked.manager.id, "in_app"), (linked.manager.id, "telegram")}
