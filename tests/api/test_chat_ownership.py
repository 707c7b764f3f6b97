"""Issue 13, finding 1: a Telegram chat belongs to one user, and only the bot's /start
deep link or an admin puts a chat on an account. A user who could type someone else's
chat id into their own profile took over that person's Telegram buttons."""
import pytest
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User

VICTIM_CHAT = "1001"


@pytest.fixture
def victim(world):
    world.tech.telegram_chat_id = VICTIM_CHAT
    db.session.commit()
    return world.tech


def chat_of(user) -> str | None:
    db.session.expire_all()
    return db.session.get(User, user.id).telegram_chat_id


@pytest.mark.parametrize("chat", [VICTIM_CHAT, "5550009", "-1001234567"])
def test_a_user_cannot_put_a_chat_on_their_own_account(world, api, victim, nothing_written, chat):
    """The takeover itself: PATCH /api/users/me with the victim's (or any) chat is refused."""
    attacker = api.as_(world.tech2)
    with nothing_written():
        r = attacker.patch("/api/users/me", json={"telegramChatId": chat, "name": "Renamed"})
    assert r.status_code == 400
    message = r.get_json()["fields"]["telegramChatId"]
    assert "profile page" in message and message.endswith(".")
    assert chat_of(world.tech2) is None and chat_of(victim) == VICTIM_CHAT
    assert db.session.get(User, world.tech2.id).name != "Renamed"  # nothing of the request was written


def test_a_user_may_clear_their_own_chat(world, api, victim):
    r = api.as_(victim).patch("/api/users/me", json={"telegramChatId": None})
    assert r.status_code == 200 and r.get_json()["telegramChatId"] is None
    assert chat_of(victim) is None


def test_an_admin_links_a_free_chat_but_not_one_another_user_holds(world, api, victim, nothing_written):
    admin = api.as_(world.admin)
    with nothing_written():
        r = admin.patch(f"/api/users/{world.tech2.id}", json={"telegramChatId": VICTIM_CHAT})
    assert r.status_code == 409
    assert "another user" in r.get_json()["fields"]["telegramChatId"]
    assert chat_of(world.tech2) is None and chat_of(victim) == VICTIM_CHAT

    r = admin.patch(f"/api/users/{world.tech2.id}", json={"telegramChatId": "1002"})
    assert r.status_code == 200 and r.get_json()["telegramChatId"] == "1002"
    # Setting a user's own chat again is no conflict.
    assert admin.patch(f"/api/users/{victim.id}", json={"telegramChatId": VICTIM_CHAT}).status_code == 200


def test_the_database_keeps_one_user_per_chat(world, victim):
    """Also when two requests race past the check: the unique index refuses the second."""
    world.tech2.telegram_chat_id = VICTIM_CHAT
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert chat_of(victim) == VICTIM_CHAT
