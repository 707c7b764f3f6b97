"""Issue 15 walk: the all-tickets list's SLA column did not say which clock ran, and
the search box's placeholder was cut off ("Search number, external id, t")."""
from __future__ import annotations

import re

from app.extensions import db
from tests.dispatcher.helpers import accepted
from tests.factories import make_ticket


def _sla_cells(html: str) -> list[str]:
    return re.findall(r'<td data-label="SLA">(.*?)</td>', html, re.S)


def test_the_list_labels_each_sla_as_response_or_fix_like_the_board(world, as_dispatcher, freeze):
    freeze("2026-11-24T08:00:00Z")
    waiting = make_ticket(world)  # assigned, not accepted: the response clock runs
    db.session.commit()
    working = accepted(world)  # accepted: the resolution clock runs
    db.session.commit()
    html = as_dispatcher.get("/dispatcher/tickets/list").get_data(as_text=True)
    rows = {t.ticket_number: row for row in html.split("<tr>")[1:] for t in (waiting, working)
            if t.ticket_number in row}
    [waiting_sla] = _sla_cells(rows[waiting.ticket_number])
    [working_sla] = _sla_cells(rows[working.ticket_number])
    assert '<span class="sla-kind">Resp.</span>' in waiting_sla and 'title="Response due ' in waiting_sla
    assert '<span class="sla-kind">Fix</span>' in working_sla and 'title="Resolution due ' in working_sla


def test_the_search_placeholder_is_short_and_the_full_hint_is_kept_for_readers(world, as_dispatcher):
    html = as_dispatcher.get("/dispatcher/tickets/list").get_data(as_text=True)
    search = re.search(r'<input type="search"[^>]*>', html).group(0)
    assert 'placeholder="Search tickets"' in search
    assert 'aria-describedby="search-hint"' in search
    assert 'id="search-hint">Search by ticket number, external ID or words in the description.<' in html
