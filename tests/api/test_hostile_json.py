"""Hostile JSON (issue 13, item 3): nesting thousands deep, lone surrogates and
400-digit integers, in request bodies and in paging cursors, are a 4xx with the
contract's JSON error body on every API endpoint, for every kind of caller, never a
500; and a refused body changes nothing."""
from __future__ import annotations

import base64
import json
import logging

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TechnicianBranchAssignment
from tests.security.conftest import build_scene

BIG = 10**400
SURROGATE = "\ud800"
DEEP = 5000  # the attack sent 1,000+; the parser's own recursion limit is ~1,000
MEDIUM = 200  # parses in Python, but far past any real document's depth

# Every field name an endpoint reads, so each payload reaches field-level code too.
FIELDS = [
    "email", "password", "name", "role", "phone", "technicianId", "branchIds", "isActive", "newPassword",
    "currentPassword", "branchId", "categoryId", "subcategoryId", "description", "priority", "externalId",
    "contactPhone", "contactName", "notes", "internalNotes", "reason", "assignedTechnicianId",
    "version", "status", "latitude", "longitude", "workDescription", "laborHours", "laborCostPerHour",
    "partsUsed", "photoIds", "action", "signedBy", "signature", "customerId", "branchCode", "branchName",
    "address", "contactPerson", "isPrimary", "slaResponseMinutes", "slaResolutionMinutes", "message",
    "callback_query", "update_id", "caption", "type",
    # equipment (issue 18)
    "assetTag", "kind", "manufacturer", "model", "serialNumber", "installedOn", "refrigerant", "chargeKg",
    "leakDetection", "replacementCost", "sensorId", "setpointC", "equipmentId",
]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def body_text(kind: str) -> str:
    """A JSON object whose every known field carries the hostile value."""
    if kind == "deep":
        return '{"description": ' + _deep(DEEP) + ', "partsUsed": ' + _deep(DEEP) + "}"
    if kind == "medium":
        return "{" + ", ".join(f'"{n}": {_deep(MEDIUM)}' for n in FIELDS) + "}"
    value = {"surrogate": SURROGATE + "@example.com", "bigint": BIG}[kind]
    body = {name: value for name in FIELDS}
    body["partsUsed"] = [{"name": value, "quantity": value, "unitCost": value}]
    body["message"] = {"text": value, "chat": {"id": value}, "from": {"id": value}}
    return json.dumps(body)  # ensure_ascii: "\ud800" goes over the wire as the escape an attacker sends


def cursor_of(kind: str) -> str:
    if kind == "deep":
        raw = _deep(DEEP)
    elif kind == "medium":
        raw = '{"at": ' + _deep(MEDIUM) + "}"
    elif kind == "surrogate":
        raw = json.dumps({"at": "2026-11-24T09:00:00+00:00", "id": SURROGATE, "t": "2026-11-24T09:00:00+00:00",
                          "email": SURROGATE, "offset": 0})
    else:
        raw = json.dumps({"at": "2026-11-24T09:00:00+00:00", "id": "x", "offset": BIG, "email": "a", "t": BIG})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


KINDS = ["deep", "medium", "surrogate", "bigint"]


def api_rules(app):
    """(method, rule, endpoint) of every API route; deletes last, token revocation very last."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule, rule.endpoint))
    return sorted(out, key=lambda r: (r[2] == "api.revoke_token", r[0] == "DELETE", r[1].rule, r[0]))


def path_ids(world, scene) -> dict:
    assignment = db.session.execute(select(TechnicianBranchAssignment.id)).scalars().first()
    from app.services import equipment

    unit = equipment.create_unit(world.dispatcher, {"branchId": world.branch.id, "assetTag": "CR-1",
                                                    "kind": "COLD_ROOM", "name": "Cold room"})
    from app.services import calendar_admin

    calendar = calendar_admin.create_calendar({"name": "Company", "timezone": "Asia/Tashkent",
                                               "week": {"mon": [["08:00", "20:00"]]}}, world.dispatcher)
    db.session.commit()
    return {
        "ticket_id": scene.in_progress.id, "calendar_id": calendar.id, "completion_id": scene.waiting_completion.id,
        "notification_id": scene.failed.id, "category_id": world.category.id,
        "subcategory_id": world.subcategory.id, "branch_id": world.branch.id,
        "technician_id": world.tech.technician_id, "assignment_id": assignment, "photo_id": scene.photo.id,
        "user_id": world.tech.id, "token_id": "no-such-token", "unit_id": unit.id,
    }


def assert_contract_error(r, what):
    assert r.status_code < 500, (what, r.status_code, r.data[:300])
    if r.status_code >= 400:
        assert r.is_json, (what, r.status_code, r.data[:200])
        body = r.get_json()
        assert isinstance(body.get("error"), str) and body["error"], (what, body)
        assert set(body) <= {"error", "fields"}, (what, body)


@pytest.mark.parametrize("who", ["anonymous", "admin", "tech", "manager"])
def test_every_api_endpoint_answers_hostile_json_without_a_500(app, world, api, monkeypatch, who):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    scene = build_scene(world)
    ids = path_ids(world, scene)
    caller = api if who == "anonymous" else api.as_(getattr(world, who))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
    cursors = {kind: cursor_of(kind) for kind in KINDS}
    bodies = {kind: body_text(kind) for kind in KINDS}
    for method, rule, endpoint in api_rules(app):
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", str(ids[arg]))
        send = getattr(caller, method.lower())
        for kind in KINDS:
            query = {"cursor": cursors[kind], "after": cursors[kind]}
            if method in ("GET", "DELETE"):
                r = send(path, query_string=query, headers=headers)
                assert_contract_error(r, (who, method, path, kind, "cursor"))
            if method != "GET":
                r = send(path, data=bodies[kind], content_type="application/json", headers=headers)
                assert_contract_error(r, (who, method, path, kind, "body"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method,path,who", [
    ("post", "/api/auth/token", None),
    ("post", "/api/tickets", "dispatcher"),
    ("post", "/api/customer-branches", "admin"),
    ("post", "/api/calendars", "dispatcher"),
    ("patch", "/api/technicians/{tech}", "tech"),
    ("post", "/api/tickets/{ticket}/arrive", "tech"),
    ("patch", "/api/users/me", "manager"),
])
def test_a_hostile_body_is_400_says_why_and_writes_nothing(world, api, nothing_written, kind, method, path, who):
    from tests.services.flow import in_progress

    ticket = in_progress(world)
    caller = api.as_(getattr(world, who)) if who else api
    path = path.format(tech=world.tech.technician_id, ticket=ticket.id)
    with nothing_written():
        r = getattr(caller, method)(path, data=body_text(kind), content_type="application/json")
    assert r.status_code == 400, (r.status_code, r.data[:300])
    message = r.get_json()["error"]
    assert {"deep": "nested too deeply", "medium": "nested too deeply", "surrogate": "invalid character",
            "bigint": "too large"}[kind] in message, message


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_cursors_are_400_on_every_list(world, api, kind):
    ticket = build_scene(world).in_progress
    for who, path in [("dispatcher", "/api/tickets"), ("dispatcher", f"/api/tickets/{ticket.id}/events"),
                      ("admin", "/api/users"), ("tech", "/api/notifications")]:
        r = api.as_(getattr(world, who)).get(path, query_string={"cursor": cursor_of(kind)})
        assert r.status_code == 400 and "cursor" in r.get_json().get("fields", {}), (path, r.status_code, r.data)


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_cursors_on_pages_are_a_clear_400(world, signed_in, kind):
    """The dispatcher's ticket list (`after`, polled by htmx) and the notification page (`cursor`)."""
    dispatcher = signed_in(world.dispatcher)
    for path, param in [("/dispatcher/tickets/list", "after"), ("/notifications", "cursor")]:
        r = dispatcher.get(path, query_string={param: cursor_of(kind)})
        assert r.status_code == 400, (path, r.status_code, r.data[:300])
        assert "text/html" in r.content_type


@pytest.mark.parametrize("number", ["1e400", "-1e400", "Infinity", "NaN", "1" + "0" * 5000])
def test_numbers_no_column_can_hold_are_refused_with_the_body(world, api, nothing_written, number):
    c = api.as_(world.dispatcher)
    with nothing_written():
        r = c.patch("/api/technicians/" + world.tech.technician_id, content_type="application/json",
                   data='{"latitude": ' + number + ', "longitude": 69.2}')
    assert r.status_code == 400 and r.get_json()["error"], r.data[:300]


def test_well_formed_json_still_passes(world, api):
    """The guard costs honest clients nothing: emoji (a surrogate pair when escaped), big
    but real numbers and a few levels of nesting."""
    c = api.as_(world.dispatcher)
    body = json.dumps({"branchId": world.branch.id, "categoryId": world.category.id,
                       "subcategoryId": world.subcategory.id, "description": "Freezer 🥶 at -18",
                       "priority": "HIGH", "externalId": "9223372036854775807"})
    r = c.post("/api/tickets", data=body, content_type="application/json")
    assert r.status_code == 201, r.data[:300]
    assert r.get_json()["description"] == "Freezer 🥶 at -18"


LATE = {
    "recursion": lambda: RecursionError("maximum recursion depth exceeded"),
    "surrogate": lambda: UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    "overflow": lambda: OverflowError("int too large to convert to float"),
}


@pytest.mark.parametrize("kind", list(LATE))
def test_a_late_input_error_is_a_400_that_writes_nothing(app, ctx, kind, caplog, monkeypatch):
    """The backstop in app/errors.py: should one of the three get past the parser, the
    request still answers 400 (JSON under /api, a page elsewhere), rolls back and is
    logged at ERROR with its traceback."""
    from app import create_app
    from app.models import Customer

    other = create_app({k: v for k, v in app.config.items() if k.isupper()})

    def fail():
        db.session.add(Customer(name="Written before the error"))
        db.session.flush()
        raise LATE[kind]()

    # Alembic's fileConfig (the migrations the `app` fixture ran) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("app.errors"), "disabled", False)
    other.add_url_rule("/api/late-error", "late_api", fail, methods=["POST"])
    other.add_url_rule("/late-error", "late_page", fail, methods=["POST"])
    try:
        client = other.test_client()
        r = client.post("/api/late-error")
        assert r.status_code == 400 and r.is_json and r.get_json()["error"], r.data[:300]
        r = client.post("/late-error")
        assert r.status_code == 400 and "text/html" in r.content_type
        late = [rec for rec in caplog.records if rec.name == "app.errors" and rec.levelname == "ERROR"]
        assert len(late) == 2 and all(rec.exc_info for rec in late)
        db.session.rollback()
        assert db.session.query(Customer).filter_by(name="Written before the error").count() == 0
    finally:
        with other.app_context():
            db.engine.dispose()
