"""The shared pages in Russian (and Uzbek) on a 390 px phone (issue 17, item 5): longer
words must not make a page scroll sideways or cut a button. The sign-in page, the ticket
page of each role, the profile and the notifications; screenshots under
artifacts/screenshots/i18n/."""
from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, login
from tests.browser.test_technician import MOBILE_UA, accepted_ticket

PHONE = {"width": 390, "height": 844}
SHOTS = ARTIFACTS / "i18n"

# Buttons (and links that look like them) whose text is cut: wider content than box, or
# a box that reaches past the screen's edge.
CLIPPED = """() => {
  const w = window.innerWidth;
  return [...document.querySelectorAll('button, .btn, input[type=submit], summary, .topnav-few a')]
    .filter(el => el.offsetParent !== null && !el.closest('dialog:not([open])'))
    .filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > w + 1 || r.left < -1 || el.scrollWidth > el.clientWidth + 1);
    })
    .map(el => (el.innerText || el.value || '').trim().slice(0, 60));
}"""


def _set_language(live, world, lang):
    from app.extensions import db
    from app.models import User

    with live.ctx():
        for user in db.session.query(User).all():
            user.locale = lang
        db.session.commit()


def _check(page, name):
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-390x844.png"), full_page=True)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    clipped = page.evaluate(CLIPPED)
    return overflow, clipped


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_shared_pages_fit_the_phone(lang, live, live_world, browser):
    ticket_id = accepted_ticket(live, live_world)
    _set_language(live, live_world, lang)
    problems = {}
    pages = {
        "signed_out": ["/login"],
        "manager": [f"/tickets/{ticket_id}", "/profile", "/notifications"],
        "tech": [f"/tickets/{ticket_id}", "/profile"],
        "dispatcher": [f"/tickets/{ticket_id}", "/notifications", "/dispatcher/tickets", "/dispatcher/tickets/list",
                       "/tickets/create", "/dispatcher/analytics", "/dispatcher/branches",
                       "/dispatcher/technicians", "/dispatcher/categories"],
    }
    for who, paths in pages.items():
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, user_agent=MOBILE_UA,
                                      locale=lang, extra_http_headers={"Accept-Language": lang})
        try:
            page = context.new_page()
            if who != "signed_out":
                login(page, live.url, live_world.emails[who])
            for path in paths:
                page.goto(f"{live.url}{path}")
                assert page.locator("html").get_attribute("lang") == lang
                name = f"{lang}-{who}-{path.strip('/').replace('/', '-') if who == 'dispatcher' else path.strip('/').split('/')[0] or 'home'}"
                overflow, clipped = _check(page, name)
                if overflow > 0 or clipped:
                    problems[name] = {"overflow_px": overflow, "clipped": clipped}
        finally:
            context.close()
    assert not problems, problems
