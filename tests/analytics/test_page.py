"""/dispatcher/analytics: who may see it, what it shows, filters kept in the URL, CSV."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from app.extensions import db

NOV = "preset=custom&from=2026-11-01&to=2026-11-30"
NOVEMBER_DAYS = (date(2026, 11, 1), date(2026, 11, 30))


def test_signed_out_goes_to_login_and_other_roles_are_refused(november, client, signed_in):
    w = november.world
    resp = client.get("/dispatcher/analytics")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    for user in (w.tech, w.manager):
        assert signed_in(user).get("/dispatcher/analytics").status_code == 403
        assert signed_in(user).get(f"/dispatcher/analytics/sla-branch.csv?{NOV}").status_code == 403


def test_the_page_shows_the_figures_of_the_period(november, signed_in):
    page = signed_in(november.world.dispatcher).get(f"/dispatcher/analytics?{NOV}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "01 Nov 2026 – 30 Nov 2026" in html
    assert "60.0%" in html and "3 of 5" in html  # responses on time
    assert "25.0%" in html and "1 of 4" in html  # resolved on time
    assert "1 h 15 min" in html and "p90 1 h 51 min" in html  # 75 and 111 minutes
    assert "397.50" in html  # approved cost
    for heading in ("Compliance by week", "By priority", "By branch", "By technician", "Open tickets at risk",
                    "Technicians", "Cost per month", "Most expensive branches", "Most expensive subcategories",
                    "Repeat faults"):
        assert heading in html
    assert html.count("<svg class=\"an-svg\"") == 2 and "an-rank" in html  # the three charts
    # Each chart has its numbers in a table beside it.
    assert 'id="table-sla-week"' in html and 'id="table-cost-month"' in html and 'id="table-cost-branch"' in html


def test_every_table_has_a_csv_link_with_the_same_period_and_filters(november, signed_in):
    w = november.world
    html = signed_in(w.dispatcher).get(f"/dispatcher/analytics?{NOV}&branch={w.branch.id}&priority=HIGH") \
        .get_data(as_text=True)
    tables = re.findall(r'id="table-([a-z-]+)"', html)
    links = dict(re.findall(r'href="/dispatcher/analytics/([a-z-]+)\.csv\?([^"]+)"', html))
    assert set(tables) <= set(links) and len(tables) >= 15
    for query in links.values():
        query = query.replace("&amp;", "&")
        assert "from=2026-11-01" in query and "to=2026-11-30" in query
        assert f"branch={w.branch.id}" in query and "priority=HIGH" in query
    # The form shows the filters that are in the URL.
    assert f'<option selected value="{w.branch.id}">' in html or f'value="{w.branch.id}" selected' in html
    assert "Priority: High" in html and "Branch: FM-001 · Freshmart Central" in html


def test_presets_end_today_and_the_default_is_the_last_30_days(november, signed_in):
    c = signed_in(november.world.dispatcher)
    assert "22 Oct 2026 – 20 Nov 2026" in c.get("/dispatcher/analytics").get_data(as_text=True)
    assert "16 Nov 2026 – 20 Nov 2026" in c.get("/dispatcher/analytics?preset=week").get_data(as_text=True)
    assert "01 Oct 2026 – 20 Nov 2026" in c.get("/dispatcher/analytics?preset=quarter").get_data(as_text=True)


def test_a_bad_period_is_explained_and_keeps_what_was_typed(november, signed_in):
    c = signed_in(november.world.dispatcher)
    html = c.get("/dispatcher/analytics?preset=custom&from=2026-11-30&to=2026-11-01").get_data(as_text=True)
    assert "Must be on or after the start date." in html
    assert 'value="2026-11-30"' in html and 'value="2026-11-01"' in html
    assert "Check the period above" in html
    html = c.get("/dispatcher/analytics?preset=custom&from=2026-13-01&to=").get_data(as_text=True)
    assert "Not a valid date value." in html and "Pick a date." in html
    html = c.get("/dispatcher/analytics?branch=nope").get_data(as_text=True)
    assert "Not a valid choice." in html
    assert c.get("/dispatcher/analytics/sla-branch.csv?preset=custom&from=x").status_code == 400


def test_htmx_gets_just_the_body(november, signed_in):
    resp = signed_in(november.world.dispatcher).get(f"/dispatcher/analytics?{NOV}", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert "data-an-filters" in html and "60.0%" in html


def test_the_page_costs_the_same_queries_for_a_few_tickets_or_many(november, signed_in, count_queries, story):
    c = signed_in(november.world.dispatcher)
    c.get(f"/dispatcher/analytics?{NOV}")  # warm the caches
    with count_queries() as few:
        assert c.get(f"/dispatcher/analytics?{NOV}").status_code == 200
    for i in range(5):
        story.approved_ticket(f"2026-11-0{i + 2}T08:00:00Z", f"2026-11-0{i + 2}T12:00:00Z")
    from app import clock
    from tests.analytics.conftest import NOW, at

    clock.set_now(at(NOW))
    with count_queries() as many:
        assert c.get(f"/dispatcher/analytics?{NOV}").status_code == 200
    assert len(few) == len(many) <= 14


def csv_rows(resp):
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the encoding from it
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_of_a_table(november, signed_in):
    resp = signed_in(november.world.dispatcher).get(f"/dispatcher/analytics/sla-branch.csv?{NOV}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"] and ".csv" in resp.headers["Content-Disposition"]
    assert b"\r\n" in resp.get_data()
    rows = csv_rows(resp)
    assert rows[0][:5] == ["Branch", "Tickets created", "Response measured", "Response met", "Response compliance %"]
    by_branch = {r[0]: r for r in rows[1:]}
    assert by_branch["Freshmart Central (FM-001)"][1:] == ["4", "2", "1", "50.0", "2", "1", "50.0"]
    assert by_branch["Freshmart North (FM-002)"][1:] == ["2", "2", "2", "100.0", "1", "0", "0.0"]
    # By priority, with the times: an empty cell where nothing could be measured.
    rows = csv_rows(signed_in(november.world.dispatcher).get(f"/dispatcher/analytics/sla-priority.csv?{NOV}"))
    assert rows[0][8:12] == ["Median response minutes", "P90 response minutes", "Median resolution minutes",
                             "P90 resolution minutes"]
    by_priority = {r[0]: r for r in rows[1:]}
    assert by_priority["Critical"][8:12] == ["60.0", "84.0", "300.0", "300.0"]
    assert by_priority["Low"][4] == "" and by_priority["Low"][8] == ""


def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(november, signed_in):
    w = november.world
    w.branch.branch_name = '=HYPERLINK("http://evil.example","Click")'
    w.branch2.branch_name = "+Freshmart North"
    w.other_branch.branch_name = "@Coldline Ünï"
    db.session.commit()
    rows = csv_rows(signed_in(w.dispatcher).get(f"/dispatcher/analytics/sla-branch.csv?{NOV}"))
    names = sorted(r[0] for r in rows[1:])
    assert names == ["'+Freshmart North (FM-002)", "'=HYPERLINK(\"http://evil.example\",\"Click\") (FM-001)",
                     "'@Coldline Ünï (CL-001)"]


def test_every_table_exports(november, signed_in):
    from app.blueprints.analytics.tables import TABLES

    c = signed_in(november.world.dispatcher)
    for key, table in TABLES.items():
        resp = c.get(f"/dispatcher/analytics/{key}.csv?{NOV}")
        assert resp.status_code == 200, key
        rows = csv_rows(resp)
        assert rows[0] == table.headers, key
    money = {r[0]: r for r in csv_rows(c.get(f"/dispatcher/analytics/cost-month.csv?{NOV}"))[1:]}
    assert money["2026-11"][1:5] == ["3", "150.00", "247.50", "397.50"]
    risk = csv_rows(c.get(f"/dispatcher/analytics/at-risk.csv?{NOV}"))
    assert len(risk) == 4 and risk[1][8] == "yes"
    assert c.get(f"/dispatcher/analytics/nope.csv?{NOV}").status_code == 404


@pytest.mark.postgres_only
def test_page_views_at_once_share_one_analytics_executor_and_a_bounded_number_of_connections(november, app):
    """Four people open the page at once: the heavy queries run on the process's one
    executor (ANALYTICS_THREADS), so at most 4 + ANALYTICS_THREADS connections are out at
    any moment, not 4 x (1 + ANALYTICS_THREADS) as with a thread pool per request."""
    import threading

    from sqlalchemy import event

    from app.services import analytics

    threads = int(app.config.get("ANALYTICS_THREADS") or 5)
    rng = analytics.date_range(*NOVEMBER_DAYS)
    state = {"out": 0, "peak": 0}
    lock = threading.Lock()

    def checkout(*_):
        with lock:
            state["out"] += 1
            state["peak"] = max(state["peak"], state["out"])

    def checkin(*_):
        with lock:
            state["out"] -= 1

    pool = db.engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    start = threading.Barrier(4)
    errors = []

    def view():
        try:
            with app.app_context():
                start.wait(timeout=10)
                report = analytics.dashboard(rng, analytics.Filters())
                assert report.overall["tickets"] > 0
                db.session.remove()
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    try:
        workers = [threading.Thread(target=view) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert not errors, errors
    assert 0 < state["peak"] <= 4 + threads, state
