"""/photos/<id> and /signatures/<id>: the image if the signed-in user may read its ticket."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from app.blueprints.files import bp
from app.services import completions, photos
from app.web import private_image


@bp.get("/photos/<photo_id>")
@login_required
def photo(photo_id):
    """A ticket photo (or its thumbnail with ?size=thumb) for whoever may read the ticket."""
    return private_image(*photos.photo_file(current_user, photo_id, request.args.get("size")))


@bp.get("/signatures/<completion_id>")
@login_required
def signature(completion_id):
    """The signature PNG of a completion, for whoever may read the ticket."""
    return private_image(completions.signature_png(current_user, completion_id), "image/png")
