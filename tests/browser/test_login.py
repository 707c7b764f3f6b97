from tests.browser.conftest import login


def test_dispatcher_signs_in_and_lands_on_the_board(live, live_world, page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/login")
    screenshot(page, "login-phone")
    login(page, live.url, live_world.emails["dispatcher"])
    assert page.url.endswith("/dispatcher/tickets")


def test_wrong_password_shows_a_message_and_stays_on_login(live, live_world, page):
    login(page, live.url, live_world.emails["dispatcher"], "wrong-password")
    assert "/login" in page.url
    assert page.locator("[role=alert]").inner_text() == "Invalid email or password"
