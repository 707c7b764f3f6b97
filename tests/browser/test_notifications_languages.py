"""The inbox on a 390 px phone in Russian and Uzbek (issue 17, item 5): the longer words
of each item (what happened, the ticket's status, the age) wrap inside the page, with
no horizontal scroll and no clipped button."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_notifications import PHONE, unassigned_tickets


@pytest.mark.parametrize("lang, line, title", [
    ("ru", "Нет техника", "У заявки"),
    ("uz", "Boʻsh texnik yoʻq", "uchun texnik yoʻq"),
])
def test_the_inbox_reads_russian_and_uzbek_on_a_phone(live, live_world, page, screenshot, lang, line, title):
    from app.extensions import db
    from app.models import User

    with live.ctx():
        db.session.get(User, live_world.ids["dispatcher"]).locale = lang
        db.session.commit()
    unassigned_tickets(live, live_world, 3)
    page.set_viewport_size(PHONE)
    login(page, live.url, live_world.emails["dispatcher"])
    page.goto(f"{live.url}/notifications")
    expect(page.locator(".notif.is-unread")).to_have_count(3)
    expect(page.locator(".notif").first).to_contain_text(line)
    assert title in page.content()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    clipped = page.evaluate("""() => [...document.querySelectorAll('main button, main a.btn, main .btn')]
        .filter(b => b.offsetParent !== null)
        .filter(b => { const r = b.getBoundingClientRect();
                       return r.left < 0 || r.right > window.innerWidth || b.scrollWidth > b.clientWidth + 1; })
        .map(b => b.textContent.trim())""")
    assert clipped == []
    screenshot(page, f"notif-inbox-{lang}-390x844")
