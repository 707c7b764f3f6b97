"""Uploads: whatever arrives is decoded and re-encoded (a polyglot's payload is gone),
anything that is not a real JPEG/PNG/WebP/HEIC is refused whatever its name says, the
client's file name never becomes a path, oversized bodies and pixel bombs are refused,
and parallel uploads are all answered — and a refused upload leaves no file behind."""
import io
import os
import re
import struct
import threading
import zlib
import zipfile
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import ServiceTicket, TicketPhoto
from tests.factories import jpeg_bytes
from tests.security.conftest import build_scene, new_client, sign_in

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("evil.html", HTML)
    return out.getvalue()


def files_in(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs}


def png_with_size(width: int, height: int) -> bytes:
    """A valid-looking PNG header announcing width x height, with almost no data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width x height."""
    data = bytearray(jpeg_bytes(16, 16))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def tech_client(app, world):
    return sign_in(new_client(app), world.tech)


@pytest.fixture
def scene(world):
    return build_scene(world)


def upload(client, ticket, data: bytes, name: str = "p.jpg", **kw):
    return client.post(f"/tech/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "type": "after", **kw})


def stored(app, photo_id) -> tuple[bytes, bytes]:
    from app.services.storage import get_storage

    p = db.session.get(TicketPhoto, photo_id)
    return get_storage().get(p.storage_key), get_storage().get(p.thumb_key)


def new_photo_ids(before: set[str]) -> list[str]:
    db.session.commit()  # end the test's read transaction: see what the requests wrote
    return [pid for (pid,) in db.session.query(TicketPhoto.id) if pid not in before]


def photo_ids() -> set[str]:
    db.session.commit()  # end the test's read transaction: see what the requests wrote
    return {pid for (pid,) in db.session.query(TicketPhoto.id)}


@pytest.mark.parametrize("tail", [HTML, zip_bytes(), HTML + zip_bytes()], ids=["html", "zip", "html+zip"])
def test_a_polyglot_photo_is_re_encoded_and_its_payload_dropped(app, scene, tech_client, tail):
    before = photo_ids()
    r = upload(tech_client, scene.in_progress, jpeg_bytes() + tail)
    assert r.status_code == 201, r.get_data(as_text=True)
    [pid] = new_photo_ids(before)
    for blob in stored(app, pid):
        assert blob.startswith(b"\xff\xd8") and blob.rstrip(b"\0").endswith(b"\xff\xd9")
        assert b"<script" not in blob and b"PK\x03\x04" not in blob and b"evil.html" not in blob
    served = tech_client.get(f"/photos/{pid}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in served.data


@pytest.mark.parametrize("data,name", [
    (SVG, "photo.jpg"), (SVG, "photo.svg"), (HTML, "photo.png"), (HTML, "photo.jpg"), (zip_bytes(), "photo.jpg"),
    (b"GIF89a" + b"\0" * 32 + HTML, "photo.gif"), (b"%PDF-1.4\n" + HTML, "photo.jpg"), (b"", "empty.jpg"),
    (jpeg_bytes()[:200], "truncated.jpg"), (b"\xff\xd8\xff\xe0" + HTML, "fake-header.jpg"),
], ids=["svg-as-jpg", "svg", "html-as-png", "html-as-jpg", "zip-as-jpg", "gif", "pdf", "empty", "truncated",
        "jpeg-magic-then-html"])
def test_things_that_are_not_photos_are_refused_and_leave_nothing(app, scene, tech_client, data, name):
    folder = app.config["UPLOAD_DIR"]
    before, rows = files_in(folder), photo_ids()
    r = upload(tech_client, scene.in_progress, data, name)
    assert r.status_code in (400, 415, 422), (r.status_code, r.get_data(as_text=True))
    assert files_in(folder) == before
    assert photo_ids() == rows


@pytest.mark.parametrize("name", [
    "../../etc/passwd.jpg", "..\\..\\windows\\win.ini.jpg", "/etc/passwd.jpg", "a\x00b.jpg", "x" * 1000 + ".jpg",
    "фото с объекта 📷.jpg", ".htaccess", "photo.jpg;.php", "CON.jpg", "",
], ids=["dotdot", "backslashes", "absolute", "nul", "very-long", "unicode", "dotfile", "php", "device", "no-name"])
def test_file_names_never_become_paths(app, scene, tech_client, name):
    folder = app.config["UPLOAD_DIR"]
    before = files_in(folder)
    rows = photo_ids()
    r = upload(tech_client, scene.in_progress, jpeg_bytes(), name)
    if r.status_code == 201:
        added = files_in(folder) - before
        assert len(added) == 2
        for path in added:  # photos/<ticket id>/<generated id>[_thumb].jpg
            assert re.fullmatch(rf"photos/{scene.in_progress.id}/[0-9a-f]{{32}}(_thumb)?\.jpg", path), path
        assert tech_client.get(f"/tickets/{scene.in_progress.id}").status_code == 200
    else:  # a browser always sends a name: refusing a nameless part is fine, but cleanly
        assert r.status_code in (400, 422) and name == ""
        assert files_in(folder) == before and photo_ids() == rows
    assert not os.path.exists(os.path.join(folder, "..", "etc"))
    assert not any("passwd" in p or ".." in p for p in files_in(folder))


def test_an_oversized_request_is_413_and_leaves_nothing(app_with, world, scene):
    small = app_with(MAX_CONTENT_LENGTH=256 * 1024, PHOTO_MAX_BYTES=128 * 1024)
    client = sign_in(new_client(small), world.tech)
    folder = small.config["UPLOAD_DIR"]
    before, rows = files_in(folder), photo_ids()
    big = jpeg_bytes(16, 16) + os.urandom(300 * 1024)
    assert upload(client, scene.in_progress, big).status_code == 413  # the body is over MAX_CONTENT_LENGTH
    mid = jpeg_bytes(16, 16) + os.urandom(200 * 1024)
    assert upload(client, scene.in_progress, mid).status_code == 413  # the photo is over PHOTO_MAX_BYTES
    api = client.post(f"/api/tickets/{scene.in_progress.id}/photos", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(big), "p.jpg"), "type": "after"})
    assert api.status_code in (401, 413)
    assert files_in(folder) == before and photo_ids() == rows


@pytest.mark.parametrize("data", [png_with_size(60000, 60000), png_with_size(8000, 8000),
                                  jpeg_with_size(65000, 65000), jpeg_with_size(9000, 9000)],
                         ids=["png-3.6Gpx", "png-64Mpx", "jpeg-4.2Gpx", "jpeg-81Mpx"])
def test_pixel_bombs_are_refused_without_decoding(app, scene, tech_client, data):
    folder = app.config["UPLOAD_DIR"]
    before, rows = files_in(folder), photo_ids()
    r = upload(tech_client, scene.in_progress, data, "bomb.png")
    assert r.status_code == 413, (r.status_code, r.get_data(as_text=True))
    assert files_in(folder) == before and photo_ids() == rows


def test_a_store_report_with_one_bad_photo_creates_nothing(app, world):
    client = sign_in(new_client(app), world.manager)
    folder = app.config["UPLOAD_DIR"]
    before = files_in(folder)
    count = db.session.query(ServiceTicket).count()
    r = client.post("/store/tickets/new", content_type="multipart/form-data", data={
        "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
        "priority": "NORMAL", "description": "Warm",
        "photos": [(io.BytesIO(jpeg_bytes()), "ok.jpg"), (io.BytesIO(SVG), "bad.jpg")]})
    assert r.status_code in (400, 415, 422)
    db.session.commit()  # end the test's read transaction: see what the requests wrote
    assert db.session.query(ServiceTicket).count() == count
    assert files_in(folder) == before


def test_twenty_parallel_uploads_are_all_answered_and_refusals_leave_nothing(app, world, scene):
    folder = app.config["UPLOAD_DIR"]
    before, rows = files_in(folder), photo_ids()
    clients = [sign_in(new_client(app), world.tech) for _ in range(20)]
    good, bad = jpeg_bytes(640, 480), SVG
    results = [None] * 20
    start = threading.Barrier(20)
    ticket = SimpleNamespace(id=scene.in_progress.id)  # no lazy loads in the threads

    def run(i):
        start.wait()
        try:
            r = upload(clients[i], ticket, good if i % 2 == 0 else bad, f"p{i}.jpg")
            results[i] = r.status_code
        except Exception as exc:  # noqa: BLE001  (reported below)
            results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(isinstance(code, int) and code < 500 for code in results), results
    accepted = [i for i, code in enumerate(results) if code == 201]
    assert all(results[i] == 415 for i in range(1, 20, 2)), results
    # every accepted photo has its row and its two files; nothing else was written
    new_rows = photo_ids() - rows
    assert len(new_rows) == len(accepted) >= 1
    assert len(files_in(folder) - before) == 2 * len(accepted)
    assert all(code in (201, 409, 503) for code in results[::2]), results
