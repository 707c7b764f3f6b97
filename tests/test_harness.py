"""The test harness itself: what tests/conftest.py promises the other tests."""
import re

from tests.conftest import sign_in


def signed_in_as(client) -> str:
    """The e-mail of the user a page is rendered for (the top bar's "who")."""
    r = client.get("/profile")
    assert r.status_code == 200, r.status_code
    return re.search(r'<span class="who" title="([^"]+)"', r.get_data(as_text=True)).group(1)


def test_clients_of_different_users_each_see_their_own_user_while_the_test_holds_an_app_context(
        world, client, signed_in):
    """Requests made inside the test's app context share its `g`, where Flask-Login
    caches the user: each request must still find its user from its own cookie, for
    the `client` fixture and signed_in's clients alike."""
    first = sign_in(client, world.dispatcher)
    second = signed_in(world.dispatcher2)
    for _ in range(2):
        assert signed_in_as(first) == world.dispatcher.email
        assert signed_in_as(second) == world.dispatcher2.email
