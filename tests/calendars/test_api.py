"""/api/calendars and a branch's calendarId (API.md, "Working calendars"): who may do
what, the Calendar JSON, and each refusal with its field message (writing nothing)."""
import pytest

from app.extensions import db
from app.models import CustomerBranch, WorkingCalendar

WEEK = {"mon": [["08:00", "13:00"], ["14:00", "20:00"]], "tue": [["08:00", "20:00"]], "sat": [["09:00", "24:00"]]}
BODY = {"name": "Company", "timezone": "Asia/Tashkent", "week": WEEK, "holidays": ["2026-12-31", "2026-03-21"],
        "country": "uz"}
FULL_WEEK = {"mon": [["08:00", "13:00"], ["14:00", "20:00"]], "tue": [["08:00", "20:00"]], "wed": [], "thu": [],
             "fri": [], "sat": [["09:00", "24:00"]], "sun": []}


def calendar_count():
    return db.session.query(WorkingCalendar).count()


def test_staff_create_a_calendar_and_everyone_signed_in_lists_it(world, api):
    r = api.as_(world.dispatcher).post("/api/calendars", json=BODY)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body == {"id": body["id"], "name": "Company", "timezone": "Asia/Tashkent", "week": FULL_WEEK,
                    "holidays": ["2026-03-21", "2026-12-31"], "country": "UZ"}
    assert api.as_(world.admin).post("/api/calendars", json={**BODY, "name": "Admin's"}).status_code == 201
    for who in (world.admin, world.dispatcher, world.tech, world.manager):
        r = api.as_(who).get("/api/calendars")
        assert r.status_code == 200 and [c["name"] for c in r.get_json()] == ["Admin's", "Company"]
    assert api.get("/api/calendars").status_code == 401


@pytest.mark.parametrize("who", ["tech", "manager"])
def test_technicians_and_store_managers_may_not_write_calendars(world, api, who):
    cal = api.as_(world.dispatcher).post("/api/calendars", json=BODY).get_json()
    client = api.as_(getattr(world, who))
    r = client.post("/api/calendars", json={**BODY, "name": "Mine"})
    assert r.status_code == 403 and r.get_json()["error"]
    r = client.patch(f"/api/calendars/{cal['id']}", json={"name": "Renamed"})
    assert r.status_code == 403
    r = client.patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": cal["id"]})
    assert r.status_code == 403
    db.session.expire_all()
    assert calendar_count() == 1 and db.session.get(CustomerBranch, world.branch.id).calendar_id is None


def test_patch_changes_only_what_it_gives(world, api):
    c = api.as_(world.dispatcher)
    cal = c.post("/api/calendars", json=BODY).get_json()
    r = c.patch(f"/api/calendars/{cal['id']}", json={"country": None, "holidays": []})
    assert r.status_code == 200
    assert r.get_json() == {**cal, "country": None, "holidays": []}
    r = c.patch(f"/api/calendars/{cal['id']}", json={"name": "company", "timezone": "Europe/Berlin"})
    assert r.status_code == 200 and (r.get_json()["name"], r.get_json()["timezone"]) == ("company", "Europe/Berlin")


def test_a_duplicate_name_is_409(world, api):
    c = api.as_(world.dispatcher)
    c.post("/api/calendars", json=BODY)
    other = c.post("/api/calendars", json={**BODY, "name": "Other"}).get_json()
    r = c.post("/api/calendars", json={**BODY, "name": "COMPANY"})
    assert r.status_code == 409 and r.get_json()["fields"] == {"name": "Already exists."}
    r = c.patch(f"/api/calendars/{other['id']}", json={"name": "Company"})
    assert r.status_code == 409
    assert calendar_count() == 2


BAD = [
    ({"name": ""}, "name", "This field is required."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Unknown timezone."),
    ({"timezone": None}, "timezone", "Required."),
    ({"country": "XX"}, "country", "Unknown country."),
    ({"country": 7}, "country", "Unknown country."),
    ({"holidays": ["2026-02-30"]}, "holidays", "Write dates as YYYY-MM-DD."),
    ({"holidays": ["31.12.2026"]}, "holidays", "Write dates as YYYY-MM-DD."),
    ({"holidays": "2026-12-31"}, "holidays", "Expected a list of dates."),
    ({"week": "mon-fri"}, "week", "Required."),
    ({"week": {"monday": [["08:00", "20:00"]]}}, "week", "Unknown weekday."),
    ({"week": {}}, "week", "The week has no working time."),
    ({"week": {"mon": []}}, "week", "The week has no working time."),
]
MESSAGES = [
    ({"week": {"mon": [["8:00", "20:00"]]}}, "HH:MM"),
    ({"week": {"mon": [["08:00", "24:30"]]}}, "HH:MM"),
    ({"week": {"mon": [["24:00", "24:00"]]}}, "24:00 can only end an interval"),
    ({"week": {"fri": [["22:00", "06:00"]]}}, "split it into two intervals on two days"),
    ({"week": {"mon": [["08:00", "13:00"], ["12:00", "20:00"]]}}, "must not overlap"),
]


@pytest.mark.parametrize("change,field,message", BAD, ids=[f"{f}:{m}" for _c, f, m in BAD])
def test_a_bad_field_is_400_with_its_message_and_writes_nothing(world, api, change, field, message):
    c = api.as_(world.dispatcher)
    r = c.post("/api/calendars", json={**BODY, **change})
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["fields"][field] == message and r.get_json()["error"]
    assert calendar_count() == 0
    cal = c.post("/api/calendars", json=BODY).get_json()
    r = c.patch(f"/api/calendars/{cal['id']}", json=change)
    assert r.status_code == 400 and field in r.get_json()["fields"]
    db.session.expire_all()
    assert c.get("/api/calendars").get_json() == [cal]


@pytest.mark.parametrize("week,words", MESSAGES, ids=[w for _x, w in MESSAGES])
def test_a_bad_week_says_what_is_wrong(world, api, week, words):
    r = api.as_(world.dispatcher).post("/api/calendars", json={**BODY, **week})
    assert r.status_code == 400 and words in r.get_json()["error"] and "week" in r.get_json()["fields"]
    assert calendar_count() == 0


def test_an_unknown_calendar_is_404_and_not_json_is_400(world, api):
    c = api.as_(world.dispatcher)
    assert c.patch("/api/calendars/nope", json={"name": "X"}).status_code == 404
    assert c.post("/api/calendars", json=["not", "an", "object"]).status_code == 400


def test_a_branch_takes_a_calendar_and_gives_it_back(world, api):
    c = api.as_(world.dispatcher)
    cal = c.post("/api/calendars", json=BODY).get_json()
    r = c.patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": cal["id"]})
    assert r.status_code == 200 and r.get_json()["calendarId"] == cal["id"]
    listed = {b["id"]: b["calendarId"] for b in api.as_(world.manager).get("/api/customer-branches").get_json()}
    assert listed == {world.branch.id: cal["id"]}
    r = c.patch(f"/api/customer-branches/{world.branch.id}", json={"branchName": "Renamed"})
    assert r.get_json()["calendarId"] == cal["id"]  # not given: kept
    r = c.patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": None})
    assert r.status_code == 200 and r.get_json()["calendarId"] is None


def test_a_branch_refuses_an_unknown_calendar(world, api):
    c = api.as_(world.dispatcher)
    cal = c.post("/api/calendars", json=BODY).get_json()
    c.patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": cal["id"]})
    for bad in ("nope", 7, ["x"]):
        r = c.patch(f"/api/customer-branches/{world.branch.id}", json={"calendarId": bad, "branchName": "Renamed"})
        assert r.status_code == 400 and r.get_json()["fields"] == {"calendarId": "Choose one of the calendars."}
    db.session.expire_all()
    b = db.session.get(CustomerBranch, world.branch.id)
    assert (b.calendar_id, b.branch_name) == (cal["id"], "Freshmart Central")


def test_a_new_branch_may_name_its_calendar(world, api):
    c = api.as_(world.admin)
    cal = c.post("/api/calendars", json=BODY).get_json()
    r = c.post("/api/customer-branches", json={"customerId": world.customer.id, "branchCode": "FM-900",
                                               "branchName": "New", "calendarId": cal["id"]})
    assert r.status_code == 201 and r.get_json()["calendarId"] == cal["id"]


def test_a_stale_version_is_409_and_changes_nothing(world, api):
    from app.services import calendar_admin
    from app.services.errors import Conflict

    cal = calendar_admin.create_calendar(BODY, world.dispatcher)
    db.session.commit()
    calendar_admin.update_calendar(cal.id, {"name": "Second"}, world.admin, version="1")
    db.session.commit()
    with pytest.raises(Conflict):
        calendar_admin.update_calendar(cal.id, {"name": "Third"}, world.dispatcher, version=1)
    db.session.rollback()
    assert (db.session.get(WorkingCalendar, cal.id).name, db.session.get(WorkingCalendar, cal.id).version) == (
        "Second", 2)
