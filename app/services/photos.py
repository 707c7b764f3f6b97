"""Photos and signatures: decoded with Pillow (never trusted by name or content type),
upright, stripped of metadata, re-encoded, thumbnailed; limits enforced.

Files are written before the database row and removed again if the transaction
fails (see `discard_on_rollback`), so a refused or failed upload leaves no file.
"""
from __future__ import annotations

import base64
import binascii
import io
import logging
import math

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from app.extensions import db
from sqlalchemy import select

from app.models import PhotoType, Role, ServiceTicket, TicketPhoto, TicketStatus, User
from app.models.types import new_id
from app.services import access
from app.services.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    TooLarge,
    UnsupportedMedia,
    ValidationError,
)
from app.services.storage import get_storage
from app.services.tickets import record_event
from app.transaction import on_commit, on_rollback

log = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")  # HEIC too when pillow-heif is installed
try:  # optional: iPhones send HEIC
    from pillow_heif import register_heif_opener  # type: ignore

    register_heif_opener()
    ALLOWED_FORMATS = ALLOWED_FORMATS + ("HEIF",)
except ImportError:  # pragma: no cover
    pass


_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _bytes_per_pixel(mode: str) -> int:
    """Pillow's in-memory pixel size: RGB is stored as 4 bytes, like RGBA and CMYK."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decode_cost(img: Image.Image, max_side: int | None = None) -> int:
    """Bytes the decode and the processing after it need at their peak, estimated from
    the header (size, mode, format) before any pixel is decoded: the decoded buffer;
    a full-size converted copy for alpha (resizing premultiplies it) and 16-bit or
    32-bit modes; libheif's own buffer for HEIC (copied into Pillow's); and the
    resize's intermediate (full height, target width) when the image is shrunk."""
    width, height = img.size
    pixels = width * height
    cost = pixels * _bytes_per_pixel(img.mode)
    if img.mode in _ALPHA_MODES or img.mode.startswith("I") or img.mode == "F":
        cost += pixels * 4
    if img.format == "HEIF":
        cost += pixels * (4 if img.mode in _ALPHA_MODES else 3)
    if max_side and max(width, height) > max_side:
        cost += pixels * 4 * max_side // max(width, height)
    return cost


def _open_image(data: bytes, max_pixels: int, formats=ALLOWED_FORMATS, max_side: int | None = None) -> Image.Image:
    """Decode fully, refusing anything that is not one of `formats` or is too large.

    The pixel count and the memory the decode needs (`decode_cost`, against
    PHOTO_MAX_DECODE_BYTES) are checked from the header, before any pixel is decoded.
    A JPEG larger than twice `max_side` is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's
    DCT scaling, `draft`), never below `max_side`: it is stored at that size anyway.

    Pillow's own bomb guard is a process-wide setting: it is only ever raised here (to
    the largest limit asked for), never lowered, so one request cannot loosen or
    tighten another's check; the per-call limit is the explicit comparison below."""
    if not data:
        raise ValidationError(_("The file is empty"), {"file": _("The file is empty.")})
    if (Image.MAX_IMAGE_PIXELS or 0) < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        img = Image.open(io.BytesIO(data), formats=list(formats))
        if img.width * img.height > max_pixels:
            raise TooLarge(_("The image has too many pixels"), {"file": _("The image is too large.")})
        if max_side and img.format == "JPEG" and max(img.size) >= 2 * max_side:
            scale = max_side / max(img.size)
            img.draft(img.mode, (max(1, math.ceil(img.width * scale)), max(1, math.ceil(img.height * scale))))
        budget = current_app.config["PHOTO_MAX_DECODE_BYTES"]
        if decode_cost(img, max_side) > budget:
            raise TooLarge(
                _("This image needs too much memory to process; please send a smaller photo "
                  "(a phone photo of up to 12 megapixels, or a PNG without transparency)"),
                {"file": _("The image is too large to process; send a smaller photo.")})
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the latter under -W error
        raise TooLarge(_("The image has too many pixels"), {"file": _("The image is too large.")})
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedMedia(
            _("This file is not a JPEG, PNG, WebP or HEIC image (or it is damaged)"),
            {"file": _("Upload a JPEG, PNG, WebP or HEIC photo.")},
        )
    return img


def _display_name(name: str | None) -> str | None:
    """The client's file name, kept only for display (files are stored under generated
    names): no control characters (PostgreSQL refuses NUL), at most 255 characters."""
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable())
    return cleaned[:255] or None


def _encode(img: Image.Image, max_side: int, quality: int = 85) -> tuple[bytes, int, int]:
    img = img.copy()
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    out = io.BytesIO()
    # No exif/icc passed: the re-encoded file carries no metadata (GPS included).
    img.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue(), img.width, img.height


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """`img` fitted within max_side (LANCZOS, as `_encode`); its EXIF stays for the
    orientation step."""
    if max(img.size) <= max_side:
        return img
    scale = max_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def process_photo(data: bytes) -> dict:
    """Decode, apply EXIF orientation, strip metadata, resize, thumbnail."""
    cfg = current_app.config
    if len(data) > cfg["PHOTO_MAX_BYTES"]:
        raise TooLarge(_("The photo is larger than allowed"), {"file": _("The photo is too large.")})
    img = _open_image(data, cfg["PHOTO_MAX_PIXELS"], max_side=cfg["PHOTO_MAX_SIDE"])
    # Shrink first, then turn upright (and thumbnail from the shrunk copy): one
    # full-size pixel buffer alive at a time. See bench/photo_upload.py.
    img = _shrink(img, cfg["PHOTO_MAX_SIDE"])
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block must not sink a good photo
        pass
    full, width, height = _encode(img, cfg["PHOTO_MAX_SIDE"])
    thumb, _width, _height = _encode(img, cfg["PHOTO_THUMB_SIDE"], quality=75)
    return {"full": full, "thumb": thumb, "width": width, "height": height}


def discard_on_rollback(keys: list[str]) -> None:
    """Delete these files if the surrounding transaction rolls back: a file never
    outlives the row it was written for."""
    on_rollback(_deleter(get_storage(), list(keys)))


def delete_after_commit(keys: list[str]) -> None:
    """Delete these files once the transaction that dropped their rows commits."""
    on_commit(_deleter(get_storage(), list(keys)))


def _deleter(storage, keys: list[str]):
    def delete():
        for key in keys:
            try:
                storage.delete(key)
            except Exception:  # noqa: BLE001  (a leftover file is logged, not fatal)
                log.exception("could not delete %s", key)

    return delete


def add_photo(ticket: ServiceTicket, actor, data: bytes, photo_type, caption: str | None,
              original_name: str | None) -> TicketPhoto:
    """A photo on a ticket: the assigned technician, while the ticket is IN_PROGRESS."""
    access.require_assigned_technician(actor, ticket)
    if ticket.status != TicketStatus.IN_PROGRESS:
        raise InvalidTransition(_("Photos can be added while the work is in progress"))
    try:
        photo_type = PhotoType(photo_type)
    except ValueError:
        raise ValidationError(_("Unknown photo type"), {"type": _("Choose before, after or work.")})
    if caption is not None and len(caption) > 300:
        raise ValidationError(_("Caption too long"), {"caption": _("At most %(max)s characters.", max=300)})
    if data is None:
        raise ValidationError(_("Attach the photo as the multipart field 'file'"), {"file": _("Choose a photo.")})
    return _store_photo(ticket, actor, data, photo_type, caption, original_name)


def _store_photo(ticket: ServiceTicket, actor, data: bytes, photo_type: PhotoType, caption: str | None,
                 original_name: str | None) -> TicketPhoto:
    """Process, write the two files (removed again if the transaction fails), add the
    row and its timeline event. Callers have checked who may add what."""
    processed = process_photo(data)
    pid = new_id()
    key = f"photos/{ticket.id}/{pid}.jpg"
    thumb_key = f"photos/{ticket.id}/{pid}_thumb.jpg"
    storage = get_storage()
    discard_on_rollback([key, thumb_key])
    storage.put(key, processed["full"])
    storage.put(thumb_key, processed["thumb"])
    photo = TicketPhoto(
        id=pid, ticket_id=ticket.id, type=photo_type, caption=(caption or "").strip() or None,
        storage_key=key, thumb_key=thumb_key, content_type="image/jpeg", width=processed["width"],
        height=processed["height"], size_bytes=len(processed["full"]),
        original_name=_display_name(original_name), uploaded_by_id=actor.id,
    )
    db.session.add(photo)
    db.session.flush()
    record_event(ticket, "photo_added", actor, photoId=photo.id, type=photo_type.value)
    db.session.flush()
    return photo


def get_readable_photo(user, photo_id: str) -> TicketPhoto:
    """A photo whose ticket `user` may read; NotFound otherwise (no id leaks)."""
    photo = db.session.get(TicketPhoto, photo_id) if isinstance(photo_id, str) and len(photo_id) <= 64 else None
    if photo is None:
        raise NotFound(_("Photo not found"))
    access.require_read_ticket(user, photo.ticket)
    return photo


def photo_file(user, photo_id: str, size: str | None = None) -> tuple[bytes, str]:
    """(bytes, content type) of a photo, or its thumbnail for size="thumb", for readers
    of its ticket; NotFound for anyone else or a file that is gone."""
    photo = get_readable_photo(user, photo_id)
    key = photo.thumb_key if size == "thumb" else photo.storage_key
    try:
        return get_storage().get(key), photo.content_type
    except (FileNotFoundError, ValueError):
        raise NotFound(_("Photo file missing"))


STORE_PHOTO_READ_ONLY = _l("The store's photos show the problem as reported; they cannot be removed.")
NOT_YOUR_PHOTO = _l("Only the person who added this photo can remove it.")


def store_photo_ids(photos) -> set[str]:
    """The store's photos among `photos`: added by whoever reported the problem (the
    store manager, or staff reporting for the store), i.e. not by a technician; a photo
    whose uploader is gone counts as the store's. One query for all of them."""
    photos = list(photos)
    uploader_ids = {p.uploaded_by_id for p in photos if p.uploaded_by_id}
    technicians = set(db.session.execute(
        select(User.id).where(User.id.in_(uploader_ids), User.role == Role.TECHNICIAN)
    ).scalars()) if uploader_ids else set()
    return {p.id for p in photos if p.uploaded_by_id not in technicians}


def remove_photo(ticket: ServiceTicket, photo_id: str, actor) -> None:
    """Remove a photo not yet part of submitted work. Evidence stays with whoever made
    it: the assigned technician removes only photos they added themselves; the store's
    photos (the problem as reported) are read-only for everyone but an admin, and an
    admin may remove any photo not yet submitted."""
    is_admin = actor.role == Role.ADMIN
    if not is_admin:
        access.require_assigned_technician(actor, ticket)
    photo = db.session.get(TicketPhoto, photo_id) if len(photo_id) <= 64 else None
    if photo is None or photo.ticket_id != ticket.id:
        raise NotFound(_("Photo not found"))
    if not is_admin and photo.uploaded_by_id != actor.id:
        raise Forbidden(str(STORE_PHOTO_READ_ONLY if photo.id in store_photo_ids([photo]) else NOT_YOUR_PHOTO))
    if photo.completion_id is not None:
        raise InvalidTransition(_("This photo belongs to submitted work"))
    keys = [photo.storage_key, photo.thumb_key]
    record_event(ticket, "photo_removed", actor, photoId=photo.id, type=photo.type.value)
    db.session.delete(photo)
    db.session.flush()
    delete_after_commit(keys)


def decode_signature(data_url) -> bytes:
    """A `data:image/png;base64,...` URL -> a fresh PNG of the drawn pixels (decoded with
    limits, not blank, re-encoded: none of the sender's chunks, text or trailing bytes
    survive, as none of a photo's metadata does)."""
    cfg = current_app.config
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise ValidationError(_("The signature must be a PNG data URL"), {"signature": _("Please sign in the box.")})
    encoded = data_url[len(prefix):]
    if len(encoded) > cfg["SIGNATURE_MAX_BYTES"] * 4 // 3 + 4:
        raise TooLarge(_("The signature image is too large"), {"signature": _("The signature is too large.")})
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("The signature is not valid base64"), {"signature": _("Please sign again.")})
    try:
        img = _open_image(raw, cfg["SIGNATURE_MAX_PIXELS"], formats=("PNG",))
    except UnsupportedMedia:
        raise ValidationError(_("The signature is not a PNG image"), {"signature": _("Please sign again.")})
    except TooLarge:
        raise TooLarge(_("The signature image is too large"), {"signature": _("The signature is too large.")})
    except ValidationError:
        raise ValidationError(_("The signature is empty"), {"signature": _("Please sign in the box.")})
    rgba = img.convert("RGBA")
    # Blank = fully transparent, or one flat colour everywhere.
    alpha_extrema = rgba.getchannel("A").getextrema()
    if alpha_extrema[1] == 0:
        raise ValidationError(_("The signature is blank"), {"signature": _("Please sign in the box.")})
    flat = rgba.convert("RGB").getextrema()
    if all(lo == hi for lo, hi in flat) and alpha_extrema[0] == alpha_extrema[1]:
        raise ValidationError(_("The signature is blank"), {"signature": _("Please sign in the box.")})
    return _fresh_png(rgba)


def _fresh_png(img: Image.Image) -> bytes:
    """The pixels only, in a new PNG: a new image carries no `info` (text, ICC profile,
    EXIF, gamma...) for the encoder to copy, and nothing after IEND is ever written."""
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return out.getvalue()


def add_store_photo(ticket: ServiceTicket, actor, data: bytes | None, original_name: str | None,
                    caption: str | None = None) -> TicketPhoto:
    """A photo the branch's store manager adds to its open ticket after the report: the
    rule (their branch, the ticket still open) is checked here, for every caller."""
    access.require_store_evidence(actor, ticket, "photos")
    if not data or not original_name:
        raise ValidationError(_("Choose a photo to add."), {"photo": _("Choose a photo to add.")})
    return add_reporter_photo(ticket, actor, data, original_name, caption)


def add_reporter_photo(ticket: ServiceTicket, actor, data: bytes, original_name: str | None,
                       caption: str | None = None) -> TicketPhoto:
    """A "before" photo from whoever reports the problem (the branch's store manager,
    or staff), while the ticket is still open. Same decoding and limits as add_photo."""
    from app.models import OPEN_STATUSES

    access.require_read_ticket(actor, ticket)
    if not access.can_create_ticket_for_branch(actor, ticket.branch_id):
        raise Forbidden(_("Only the branch's store manager or a dispatcher may add these photos"))
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTransition(_("Photos of the problem can be added while the ticket is open"))
    if caption is not None and len(caption) > 300:
        raise ValidationError(_("Caption too long"), {"caption": _("At most %(max)s characters.", max=300)})
    return _store_photo(ticket, actor, data, PhotoType.BEFORE, caption, original_name)
