"""The store manager's and the technician's phone pages in Russian and Uzbek, in real
Chromium at 390 px (issue 17, item 5): the longer words must not push the page sideways
or cut a button's label. Screenshots: artifacts/screenshots/lang-<lang>-<page>.png."""
from __future__ import annotations

import pytest

from tests.browser.conftest import login

PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)

# What overflows: the page wider than the screen; a button, link-button, badge or label
# whose text is wider than its box (cut or spilling), or that sticks out of the screen.
OVERFLOW = """() => {
  const out = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > window.innerWidth) out.push(`page ${doc.scrollWidth} > ${window.innerWidth}`);
  const items = document.querySelectorAll(
    "button, .btn, summary, .badge, .status, .prio, .tag-choice, label > span, .priority-text, h1, h2, dt, dd");
  for (const el of items) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.closest("[hidden], template")) continue;
    const text = (el.innerText || "").trim().slice(0, 50);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto")
      out.push(`cut: ${el.tagName}.${el.className} "${text}" ${el.scrollWidth} > ${el.clientWidth}`);
    if (r.left < -1 || r.right > window.innerWidth + 1)
      out.push(`outside: ${el.tagName}.${el.className} "${text}" ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return out;
}"""


def _set_up(live, ids, lang) -> dict:
    """The manager and the technician read `lang`; the technician has a ticket to accept,
    one on site to complete, and one waiting for the manager's approval."""
    from app.extensions import db
    from app.models import User
    from app.services import tickets
    from tests.browser.test_store import _world
    from tests.factories import make_ticket
    from tests.store.conftest import finished_ticket

    with live.ctx():
        w = _world(live, ids)
        for user in (w.manager, w.tech):
            db.session.get(User, user.id).locale = lang
        waiting = finished_ticket(w)
        on_site = make_ticket(w, by=w.manager, description="Витрина с молочкой не холодит, +11 °C, с утра течёт вода")
        tickets.accept(on_site, w.tech)
        tickets.arrive(on_site, w.tech)
        make_ticket(w, by=w.manager, description="Sovutish kamerasi eshigi yopilmayapti, rezinasi yirtilgan")
        db.session.commit()
        return {"waiting": waiting.id, "on_site": on_site.id}


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_the_phone_pages_fit_in_russian_and_uzbek(browser, live, live_world, screenshot, lang):
    made = _set_up(live, live_world.ids, lang)
    problems = {}
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        login(page, live.url, live_world.emails["manager"])
        for name, path in (("store-list", "/store"), ("store-report", "/store/tickets/new"),
                           ("store-approve", f"/tickets/{made['waiting']}/approve")):
            page.goto(live.url + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            screenshot(page, f"lang-{lang}-{name}")
            problems[name] = page.evaluate(OVERFLOW)
        context.clear_cookies()
        login(page, live.url, live_world.emails["tech"])
        page.goto(live.url + "/tech/dashboard")
        page.wait_for_load_state("networkidle")
        page.locator("details.decline summary").first.tap()  # the decline form open: its longest words
        screenshot(page, f"lang-{lang}-tech-queue")
        problems["tech-queue"] = page.evaluate(OVERFLOW)
        page.goto(live.url + f"/tech/tickets/{made['on_site']}/complete")
        page.wait_for_load_state("networkidle")
        page.get_by_role("button", name={"ru": "Добавить запчасть", "uz": "Ehtiyot qism qoʻshish"}[lang]).tap()
        page.locator("[data-part]").first.wait_for()
        screenshot(page, f"lang-{lang}-tech-complete")
        problems["tech-complete"] = page.evaluate(OVERFLOW)
    finally:
        context.close()
    assert not any(problems.values()), problems
