"""Back after htmx's history cache missed: htmx asks the URL again with
HX-History-Restore-Request and needs the whole page, never the bare fragment it swaps
(issue 14, item 5: one page-or-partial helper for every blueprint)."""
from __future__ import annotations

import pytest

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
FRAGMENT = {"HX-Request": "true"}
PAGES = [("dispatcher", "/dispatcher/tickets"), ("dispatcher", "/dispatcher/tickets/list"),
         ("dispatcher", "/dispatcher/analytics"), ("tech", "/tech/dashboard"), ("manager", "/store"),
         ("manager", "/notifications")]


@pytest.mark.parametrize("who,path", PAGES)
def test_a_history_restore_gets_the_whole_page_and_a_swap_gets_the_fragment(world, signed_in, who, path):
    client = signed_in(getattr(world, who))
    restored = client.get(path, headers=RESTORE)
    swapped = client.get(path, headers=FRAGMENT)
    assert restored.status_code == 200 and swapped.status_code == 200, (restored.status_code, swapped.status_code)
    assert restored.get_data(as_text=True).lstrip().lower().startswith("<!doctype html>")
    assert not swapped.get_data(as_text=True).lstrip().lower().startswith("<!doctype html>")
