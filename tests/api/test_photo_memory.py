"""Decoding memory is bounded (issue 13, item 5): what an image would need decoded is
computed from its header (size, mode, format) and refused (413, a clear message,
nothing stored) above PHOTO_MAX_DECODE_BYTES, before any pixel is decoded. A 7070x7070
RGBA PNG is ~190 KB on the wire and needed ~450 MB of RSS to process; real phone photos
still go through. Figures: bench/decode_memory.py, bench/RESULTS.md."""
from __future__ import annotations

import functools
import io

import pytest
from PIL import Image

from app.services import photos
from tests.factories import jpeg_bytes
from tests.services.flow import in_progress
from tests.services.images import flat_png


@functools.lru_cache(maxsize=None)
def attack_png() -> bytes:
    return flat_png(7070)  # RGBA, under PHOTO_MAX_PIXELS (50 MP)


@functools.lru_cache(maxsize=None)
def phone_jpeg() -> bytes:
    return jpeg_bytes(4000, 3000)


@functools.lru_cache(maxsize=None)
def phone_heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (4032, 3024), (20, 140, 60)).save(out, format="HEIF")
    return out.getvalue()


def _upload(client, ticket, data, name):
    return client.post(f"/api/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "type": "after"})


def test_a_50_megapixel_rgba_png_is_refused_before_decoding(world, api, nothing_written):
    data = attack_png()
    assert len(data) < 250_000 and Image.open(io.BytesIO(data)).size == (7070, 7070)
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    with nothing_written():
        r = _upload(tech, ticket, data, "screenshot.png")
    assert r.status_code == 413, r.data[:300]
    body = r.get_json()
    assert "too much memory" in body["error"] and body["fields"]["file"].endswith(".")


def test_the_technician_page_says_why_it_refused_it(world, signed_in, nothing_written):
    ticket = in_progress(world)
    tech = signed_in(world.tech)
    with nothing_written():
        r = tech.post(f"/tech/tickets/{ticket.id}/photos", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(attack_png()), "screenshot.png"), "type": "after"})
    assert r.status_code == 413
    assert "too large to process" in r.get_data(as_text=True) or "too much memory" in r.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["jpeg", "heic"])
def test_a_12_megapixel_phone_photo_still_goes_through(world, api, kind):
    data, name = (phone_jpeg(), "IMG_0001.JPG") if kind == "jpeg" else (phone_heic(), "IMG_0001.HEIC")
    ticket = in_progress(world)
    r = _upload(api.as_(world.tech), ticket, data, name)
    assert r.status_code == 201, r.data[:300]
    assert (r.get_json()["width"], r.get_json()["height"]) == (2048, 1536)


def test_the_budget_is_a_setting(world, api, app, monkeypatch, nothing_written):
    monkeypatch.setitem(app.config, "PHOTO_MAX_DECODE_BYTES", 20_000_000)
    ticket = in_progress(world)
    tech = api.as_(world.tech)
    with nothing_written():
        assert _upload(tech, ticket, phone_jpeg(), "IMG_0001.JPG").status_code == 413


def test_the_estimate_follows_mode_and_format(ctx):
    """From headers only: RGB is stored as 4 bytes a pixel; alpha adds a premultiplied
    copy; a big JPEG is estimated at the scale it will be decoded at."""
    rgba = Image.open(io.BytesIO(attack_png()))
    rgb = Image.open(io.BytesIO(flat_png(7070, color_type=2)))
    assert photos.decode_cost(rgba) == 2 * photos.decode_cost(rgb) == 2 * 7070 * 7070 * 4
    jpeg = Image.open(io.BytesIO(phone_jpeg()))
    assert photos.decode_cost(jpeg, 2048) < 80_000_000
