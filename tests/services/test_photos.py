"""Photos: decoded by Pillow, upright, stripped of metadata, re-encoded, thumbnailed, bounded."""
import io
from pathlib import Path

import pytest
from PIL import Image

from app.extensions import db
from app.models import TicketPhoto
from app.services import photos
from app.services.errors import InvalidTransition, TooLarge, UnsupportedMedia, ValidationError
from tests.factories import jpeg_bytes, make_ticket, png_bytes
from tests.services.flow import count, event_kinds, in_progress
from tests.services.images import SVG, TEXT_AS_JPG, jpeg_with_exif, png_bomb, png_photo, truncated_jpeg, webp_photo


def files_in(app):
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def stored(app, key):
    return Image.open(io.BytesIO((Path(app.config["UPLOAD_DIR"]) / key).read_bytes()))


def test_exif_orientation_is_applied_and_all_metadata_stripped(world, app):
    ticket = in_progress(world)
    p = photos.add_photo(ticket, world.tech, jpeg_with_exif(400, 200, orientation=6), "before", "Door", "IMG_1.jpg")
    db.session.commit()
    assert (p.width, p.height) == (200, 400)  # stored upright: a portrait
    with stored(app, p.storage_key) as img:
        assert img.format == "JPEG" and img.size == (200, 400)
        assert len(img.getexif()) == 0  # no orientation, no camera, no GPS
        assert "exif" not in img.info and "icc_profile" not in img.info
        # The red corner marked top-left in the sensor's frame is top-right once upright.
        r, g, b = img.convert("RGB").getpixel((190, 10))
        assert r > 200 and g < 80 and b < 80
    raw = (Path(app.config["UPLOAD_DIR"]) / p.storage_key).read_bytes()
    assert b"PhoneCo" not in raw and b"Exif" not in raw


def test_a_thumbnail_is_made(world, app):
    ticket = in_progress(world)
    p = photos.add_photo(ticket, world.tech, jpeg_bytes(3000, 1500), "after", None, "big.jpg")
    db.session.commit()
    with stored(app, p.storage_key) as full, stored(app, p.thumb_key) as thumb:
        assert max(full.size) == app.config["PHOTO_MAX_SIDE"]
        assert max(thumb.size) == app.config["PHOTO_THUMB_SIDE"] and thumb.format == "JPEG"
    assert (p.width, p.height) == (2048, 1024)
    assert "photo_added" in event_kinds(ticket)


@pytest.mark.parametrize("data", [png_photo(), webp_photo(), png_bytes()], ids=["png", "webp", "transparent-png"])
def test_png_and_webp_are_accepted_and_stored_as_jpeg(world, app, data):
    ticket = in_progress(world)
    p = photos.add_photo(ticket, world.tech, data, "work", None, "x.png")
    db.session.commit()
    assert p.content_type == "image/jpeg"
    with stored(app, p.storage_key) as img:
        assert img.format == "JPEG"


@pytest.mark.parametrize("data,error", [
    (TEXT_AS_JPG, UnsupportedMedia),
    (truncated_jpeg(), UnsupportedMedia),
    (SVG, UnsupportedMedia),
    (b"GIF89a" + b"\x00" * 100, UnsupportedMedia),
    (b"", ValidationError),
    (png_bomb(), TooLarge),
], ids=["text-as-jpg", "truncated-jpeg", "svg", "gif", "empty", "pixel-bomb"])
def test_hostile_files_are_refused_and_nothing_is_kept(world, app, data, error):
    ticket = in_progress(world)
    with pytest.raises(error):
        photos.add_photo(ticket, world.tech, data, "after", None, "photo.jpg")
    db.session.rollback()
    assert count(TicketPhoto) == 0 and files_in(app) == []


def test_too_many_bytes_is_too_large(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 10_000)
    ticket = in_progress(world)
    with pytest.raises(TooLarge):
        photos.add_photo(ticket, world.tech, jpeg_bytes(1200, 900, color=(1, 2, 3)) + b"\0" * 10_000, "after", None, "a.jpg")


def test_a_failed_transaction_takes_its_files_with_it(world, app):
    ticket = in_progress(world)
    photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "a.jpg")
    assert len(files_in(app)) == 2  # written before the row ...
    db.session.rollback()
    assert files_in(app) == []  # ... and gone with it


def test_photos_only_while_the_work_is_in_progress(world):
    ticket = make_ticket(world)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        photos.add_photo(ticket, world.tech, jpeg_bytes(), "after", None, "a.jpg")


def test_unknown_photo_type_is_refused(world):
    ticket = in_progress(world)
    with pytest.raises(ValidationError) as err:
        photos.add_photo(ticket, world.tech, jpeg_bytes(), "selfie", None, "a.jpg")
    assert "type" in err.value.fields


@pytest.mark.sqlite_only
@pytest.mark.parametrize("url", [
    None, "", "data:image/jpeg;base64,AAAA", "data:image/png;base64,%%%%", "data:image/png;base64,"
    + __import__("base64").b64encode(jpeg_bytes()).decode(),
])
def test_signatures_must_be_decodable_pngs(ctx, url):
    with pytest.raises(ValidationError):
        photos.decode_signature(url)


@pytest.mark.sqlite_only
def test_blank_signatures_are_refused(ctx):
    import base64

    white = io.BytesIO()
    Image.new("RGB", (300, 100), (255, 255, 255)).save(white, format="PNG")
    for png in (png_bytes(draw=False), white.getvalue()):
        with pytest.raises(ValidationError):
            photos.decode_signature("data:image/png;base64," + base64.b64encode(png).decode())


@pytest.mark.sqlite_only
def test_oversized_signatures_are_too_large(ctx):
    import base64

    with pytest.raises(TooLarge):
        photos.decode_signature("data:image/png;base64," + base64.b64encode(png_bomb(4000)).decode())
    with pytest.raises(TooLarge):
        photos.decode_signature("data:image/png;base64," + "A" * (1024 * 1024))


def _heic_photo(width=640, height=480) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 140, 60)).save(out, format="HEIF")
    return out.getvalue()


def test_an_iphone_heic_photo_is_accepted_and_stored_as_jpeg(world, app):
    ticket = in_progress(world)
    p = photos.add_photo(ticket, world.tech, _heic_photo(), "after", None, "IMG_0001.HEIC")
    db.session.commit()
    assert (p.width, p.height) == (640, 480)
    with stored(app, p.storage_key) as img:
        assert img.format == "JPEG"
