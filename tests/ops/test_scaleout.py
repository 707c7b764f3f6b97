"""The scale-out profile: photos on S3 (moto's server on 127.0.0.1) through the real
upload route, readiness naming what is down, and one JSON log line per request."""
import io
import json
import logging

import pytest

from app.extensions import db
from app.logging_setup import JsonFormatter
from app.models import TicketPhoto
from app.services.storage import LocalStorage, get_storage
from tests.factories import PASSWORD, jpeg_bytes
from tests.ops.conftest import free_port
from tests.services.flow import in_progress


@pytest.fixture
def s3_app(app, s3_bucket, monkeypatch):
    """The app configured with STORAGE_BACKEND=s3 against a fresh bucket; returns a function
    listing the bucket's keys."""
    for key, value in {"STORAGE_BACKEND": "s3", "S3_BUCKET": s3_bucket.name, "S3_PREFIX": "evercold",
                       "S3_ENDPOINT_URL": s3_bucket.endpoint, "S3_REGION": "us-east-1",
                       "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setitem(app.config, key, value)

    def keys():
        listing = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)
        return sorted(o["Key"] for o in listing.get("Contents", []))

    return keys


def _upload(tech, ticket_id, data):
    form = {"file": (io.BytesIO(data), "door.jpg"), "type": "after"}
    return tech.post(f"/api/tickets/{ticket_id}/photos", data=form, content_type="multipart/form-data")


def test_local_files_stay_the_default_storage(app, ctx):
    assert isinstance(get_storage(), LocalStorage)


def test_a_photo_uploaded_through_the_api_lands_in_the_bucket_and_is_served(app, world, api, s3_app):
    working = in_progress(world)
    r = _upload(api.as_(world.tech), working.id, jpeg_bytes())
    assert r.status_code == 201, r.get_json()
    photo = db.session.get(TicketPhoto, r.get_json()["id"])
    assert s3_app() == sorted([f"evercold/{photo.storage_key}", f"evercold/{photo.thumb_key}"])
    # Nothing went to the local disk.
    assert not (LocalStorage(app.config["UPLOAD_DIR"]).exists(photo.storage_key))

    with app.app_context():
        browser = app.test_client()
        assert browser.post("/login", data={"email": "manager@example.com", "password": PASSWORD}).status_code == 302
        page = browser.get(f"/photos/{photo.id}")
        assert page.status_code == 200 and page.mimetype == "image/jpeg"
        assert page.data[:2] == b"\xff\xd8"
        assert browser.get(f"/photos/{photo.id}?size=thumb").status_code == 200


def test_a_refused_upload_leaves_nothing_in_the_bucket(app, world, api, s3_app):
    working = in_progress(world)
    r = _upload(api.as_(world.tech), working.id, b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert r.status_code == 415
    assert s3_app() == []
    assert db.session.query(TicketPhoto).count() == 0


def test_readiness_names_the_database_when_it_is_unreachable(app):
    from app import create_app
    from app.config import TestConfig

    port = free_port()  # nothing listens there
    broken = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                         "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/nope"})
    r = broken.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["database"] == "unavailable"
    assert r.get_json()["status"] == "unavailable"
    assert "Traceback" not in r.get_data(as_text=True)
    with broken.app_context():
        db.engine.dispose()


def test_readiness_names_the_queue_when_redis_is_unreachable(app, client, monkeypatch):
    from huey import RedisHuey

    from app import tasks

    down = RedisHuey("evercold-readyz", url=f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(tasks, "huey", down)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"] == {"database": "ok", "queue": "unavailable"}


def test_readiness_is_ok_when_database_and_queue_answer(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["checks"] == {"database": "ok", "queue": "ok"}


@pytest.mark.sqlite_only
def test_each_request_logs_one_json_line_with_its_request_id(app, client, monkeypatch):
    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(JsonFormatter().format(record))

    handler = Capture()
    logger = logging.getLogger("evercold.request")
    logger.addHandler(handler)
    old_level, old_disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False  # alembic's fileConfig (migrations in the app fixture) disables it
    monkeypatch.setattr(app, "testing", False)  # request lines are only written outside tests
    try:
        ok = client.get("/healthz", headers={"X-Request-Id": "proxy-abc.123"})
        bad = client.get("/healthz", headers={"X-Request-Id": "bad id\" \"forged\": 1, " + "x" * 80})
        missing = client.get("/no-such-page")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.disabled = old_disabled
    assert ok.headers["X-Request-Id"] == "proxy-abc.123"
    replaced = bad.headers["X-Request-Id"]
    assert replaced and "forged" not in replaced and " " not in replaced
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    for rec, resp, path in zip(records, (ok, bad, missing), ("/healthz", "/healthz", "/no-such-page")):
        assert rec["request_id"] == resp.headers["X-Request-Id"]
        assert (rec["method"], rec["path"], rec["status"]) == ("GET", path, resp.status_code)
        assert isinstance(rec["ms"], (int, float)) and rec["ms"] >= 0
    assert records[2]["status"] == 404
    assert "forged" not in lines[1]


@pytest.mark.sqlite_only
def test_a_response_the_commit_turns_into_409_is_logged_as_409_and_keeps_its_request_id(
        app, world, api, monkeypatch):
    """The request log runs after the commit hook (issue 14, item 7)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(JsonFormatter().format(record)))

    def conflict_at_commit(session):
        raise StaleDataError("another dispatcher saved this ticket first")

    handler = Capture()
    logger = logging.getLogger("evercold.request")
    logger.addHandler(handler)
    old_level, old_disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    dispatcher = api.as_(world.dispatcher)
    monkeypatch.setattr(app, "testing", False)
    event.listen(Session, "before_commit", conflict_at_commit)
    try:
        r = dispatcher.post("/api/tickets", headers={"X-Request-Id": "req-409"}, json={
            "branchId": world.branch.id, "categoryId": world.subcategory.category_id,
            "subcategoryId": world.subcategory.id, "description": "Door seal torn"})
    finally:
        event.remove(Session, "before_commit", conflict_at_commit)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.disabled = old_disabled
    assert r.status_code == 409, r.get_json()
    assert r.headers["X-Request-Id"] == "req-409"
    assert [(rec["path"], rec["status"], rec["request_id"]) for rec in lines] == [("/api/tickets", 409, "req-409")]
