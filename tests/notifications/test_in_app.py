"""In-app notifications: the API, the bell, /notifications and the profile settings."""
from __future__ import annotations

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus, User
from app import clock
from tests.factories import PASSWORD, make_branch, make_ticket
from tests.helpers import TRANSACTION_CONTROL, count_statements

from .conftest import fresh, outbox


def unassigned_tickets(world, n: int, at):
    """n tickets nobody can take: each one tells both dispatchers (in-app)."""
    lonely = make_branch(world.customer, "FM-009", "Freshmart Lonely")
    db.session.commit()
    made = []
    for i in range(n):
        at(minutes=i)
        made.append(make_ticket(world, branch=lonely, by=world.admin, description=f"Problem number {i}"))
        db.session.commit()
    return made


def login(client, email):
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


# --- API -------------------------------------------------------------------------------

def test_api_lists_only_the_callers_notifications_newest_first_with_a_cursor(api, world, at):
    at()
    made = unassigned_tickets(world, 3, at)
    me = api.as_(world.dispatcher)

    first = me.get("/api/notifications?limit=2")
    assert first.status_code == 200
    assert [i["title"] for i in first.json["items"]] == [
        f"Ticket {made[2].ticket_number} has no technician", f"Ticket {made[1].ticket_number} has no technician"]
    item = first.json["items"][0]
    # The contract's fields, and two added compatibly (docs/notifications.md).
    assert set(item) == {"id", "ticketId", "kind", "title", "body", "createdAt", "readAt", "ticketNumber", "stale"}
    assert item["ticketNumber"] == made[2].ticket_number and item["stale"] is False
    assert item["ticketId"] == made[2].id and item["kind"] == "ticket_unassigned"
    assert item["createdAt"] == "2026-11-24T09:02:00Z" and item["readAt"] is None
    assert "Description: Problem number 2" in item["body"]
    second = me.get(f"/api/notifications?limit=2&cursor={first.json['nextCursor']}")
    assert [i["ticketId"] for i in second.json["items"]] == [made[0].id]
    assert second.json["nextCursor"] is None

    assert api.as_(world.tech).get("/api/notifications").json == {"items": [], "nextCursor": None}
    assert me.get("/api/notifications?cursor=garbage").status_code == 400
    assert me.get("/api/notifications?limit=0").status_code == 400
    assert api.get("/api/notifications").status_code == 401


def test_api_marks_one_and_then_all_read(api, world, at):
    at()
    unassigned_tickets(world, 3, at)
    me = api.as_(world.dispatcher)
    items = me.get("/api/notifications?unread=true").json["items"]
    assert len(items) == 3

    at(minutes=10)
    resp = me.post(f"/api/notifications/{items[0]['id']}/read")
    assert resp.status_code == 200 and resp.json["readAt"] == "2026-11-24T09:10:00Z"
    assert me.post(f"/api/notifications/{items[0]['id']}/read").json["readAt"] == "2026-11-24T09:10:00Z"
    assert [i["id"] for i in me.get("/api/notifications?unread=true").json["items"]] == [items[1]["id"], items[2]["id"]]
    assert len(me.get("/api/notifications").json["items"]) == 3

    # Someone else's notification is not found, and stays unread.
    theirs = api.as_(world.dispatcher2).get("/api/notifications").json["items"][0]
    assert me.post(f"/api/notifications/{theirs['id']}/read").status_code == 404
    assert api.as_(world.dispatcher2).get("/api/notifications?unread=true").json["items"][0]["readAt"] is None

    assert me.post("/api/notifications/read-all").json == {"updated": 2}
    assert me.get("/api/notifications?unread=true").json["items"] == []
    assert len(api.as_(world.dispatcher2).get("/api/notifications?unread=true").json["items"]) == 3


# --- the bell and /notifications --------------------------------------------------------

def test_bell_shows_the_unread_count_and_signed_out_pollers_are_stopped(client, world, at):
    at()
    unassigned_tickets(world, 2, at)
    resp = client.get("/notifications/bell", headers={"HX-Request": "true"})
    assert resp.status_code == 286

    login(client, "dispatcher@example.com")
    html = client.get("/notifications/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'class="bell-count" data-count="2"' in html and "2 unread" in html
    login(client, "tech@example.com")
    html = client.get("/notifications/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "bell-count" not in html

    # Every page's header carries the polling bell.
    page = client.get("/profile").get_data(as_text=True)
    assert 'id="bell"' in page and 'hx-get="/notifications/bell"' in page and "every 30s" in page


def test_bell_poll_is_one_query(client, world, at):
    at()
    unassigned_tickets(world, 3, at)
    login(client, "dispatcher@example.com")
    with count_statements(skip=TRANSACTION_CONTROL) as statements:
        client.get("/notifications/bell", headers={"HX-Request": "true"})
    assert len(statements) == 2, statements  # the signed-in user, the COUNT


def test_notifications_page_lists_and_marks_read(client, world, at):
    at()
    made = unassigned_tickets(world, 2, at)
    login(client, "dispatcher@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert "2 unread" in page and page.count('class="notif is-unread"') == 2
    assert f"Ticket {made[1].ticket_number} has no technician" in page
    ids = [n.id for n in outbox(user_id=world.dispatcher.id, channel=NotificationChannel.IN_APP)]

    resp = client.post(f"/notifications/{ids[0]}/read", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "notificationsChanged"
    fragment = resp.get_data(as_text=True)
    assert f'id="n-{ids[0]}"' in fragment and "is-unread" not in fragment.split("notif-actions")[0]
    assert 'hx-swap-oob="true"' in fragment and "1 unread" in fragment

    resp = client.post(f"/notifications/{ids[1]}/open")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/tickets/{made[1].id}"
    page = client.get("/notifications").get_data(as_text=True)
    assert "All read" in page and "is-unread" not in page


def test_mark_all_read_without_javascript_redirects_back(client, world, at):
    at()
    unassigned_tickets(world, 3, at)
    login(client, "dispatcher2@example.com")
    resp = client.post("/notifications/read-all", data={"unread": "1"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/notifications?unread=1"
    page = client.get("/notifications?unread=1").get_data(as_text=True)
    assert "You are all caught up." in page
    fresh()
    assert all(n.read_at is not None for n in outbox(user_id=world.dispatcher2.id))
    assert all(n.read_at is None for n in outbox(user_id=world.dispatcher.id))


def test_notifications_page_query_count_does_not_grow_with_the_list(client, world, at):
    at()
    made = unassigned_tickets(world, 2, at)
    login(client, "dispatcher@example.com")
    with count_statements(skip=TRANSACTION_CONTROL) as few:
        client.get("/notifications")
    for _ in range(6):
        make_ticket(world, branch=made[0].branch, by=world.admin)
    db.session.commit()
    with count_statements(skip=TRANSACTION_CONTROL) as many:
        page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notif is-unread"') == 8

    def on_notifications(statements):
        return [s for s in statements if "FROM notifications" in s]

    # The groups, their items, the unread count, the failed deliveries, and the groups'
    # tickets: whatever the number of items, nothing loaded per item or per group (only
    # the signed-in user is read besides).
    assert len(on_notifications(few)) == len(on_notifications(many)) == 4
    assert len(few) == len(many), many
    assert all("FROM notifications" in s or "FROM users" in s or "FROM service_tickets" in s
               or "FROM service_completions" in s for s in many), many


def test_someone_elses_notification_cannot_be_read_or_opened(client, world, at):
    at()
    unassigned_tickets(world, 1, at)
    theirs = outbox(user_id=world.dispatcher.id)[0]
    login(client, "dispatcher2@example.com")
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.post(f"/notifications/{theirs.id}/open").status_code == 404
    assert outbox(user_id=world.dispatcher.id)[0].read_at is None


def test_empty_notifications_page_says_so(client, world):
    login(client, "manager@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert "No notifications yet." in page and "Failed deliveries" not in page


def test_load_more_returns_the_next_items_for_htmx(app, client, world, at, monkeypatch):
    from app.blueprints.account import routes

    at()
    unassigned_tickets(world, 3, at)
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    login(client, "dispatcher@example.com")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notif is-unread"') == 2 and "Show more" in page
    cursor = page.split("cursor=")[1].split('"')[0].split("&")[0]
    more = client.get(f"/notifications?cursor={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert more.count('class="notif is-unread"') == 1 and "Show more" not in more and "<html" not in more


# --- profile ---------------------------------------------------------------------------

def test_profile_saves_phone_and_channel_toggles(client, world):
    login(client, "tech@example.com")
    page = client.get("/profile").get_data(as_text=True)
    assert "How we reach you" in page and "Telegram is not set up on this server yet." in page

    resp = client.post("/profile", data={"phone": "+998 90 555 44 33", "notify_sms": "y"})
    assert resp.status_code == 302
    fresh()
    user = db.session.get(User, world.tech.id)
    assert user.phone == "+998 90 555 44 33" and user.notify_sms is True and user.notify_telegram is False


def test_profile_keeps_what_was_typed_when_the_phone_is_wrong(client, world):
    login(client, "tech@example.com")
    resp = client.post("/profile", data={"phone": "call me maybe", "notify_telegram": "y"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Enter a valid phone number." in page and 'value="call me maybe"' in page
    fresh()
    assert db.session.get(User, world.tech.id).phone == "+998900000001"


def test_profile_unlinks_telegram(client, channels, world):
    world.tech.telegram_chat_id = "1001"
    db.session.commit()
    login(client, "tech@example.com")
    page = client.get("/profile").get_data(as_text=True)
    assert "Unlink Telegram" in page and "data-confirm=" in page
    client.post("/profile/telegram/unlink")
    fresh()
    assert db.session.get(User, world.tech.id).telegram_chat_id is None
    assert "Link Telegram" in client.get("/profile").get_data(as_text=True)


def test_telegram_card_polls_until_linked_then_stops(client, channels, world, at):
    at()
    login(client, "tech@example.com")
    client.post("/profile/telegram/link")
    card = client.get("/profile/telegram", headers={"HX-Request": "true"})
    assert card.status_code == 200 and "Open Telegram" in card.get_data(as_text=True)
    world.tech.telegram_chat_id = "1001"
    db.session.commit()
    card = client.get("/profile/telegram", headers={"HX-Request": "true"})
    assert card.status_code == 286 and "Linked" in card.get_data(as_text=True)


def test_pages_need_a_sign_in(client):
    for path in ("/notifications", "/profile"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_in_app_rows_are_delivered_on_creation_and_never_queued(world, at):
    at()
    unassigned_tickets(world, 1, at)
    rows = outbox()
    assert rows and {r.status for r in rows} == {NotificationStatus.SENT}
    assert all(r.sent_at == clock.now() and r.next_attempt_at is None for r in rows)
    assert {r.user_id for r in rows} == {world.dispatcher.id, world.dispatcher2.id}
    assert isinstance(rows[0], Notification)
