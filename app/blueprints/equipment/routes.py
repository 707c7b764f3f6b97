"""/equipment/<id>/qr.svg: the unit's report URL as a QR code, for whoever may read the unit
(a signed-in page, e.g. an <img> on the unit's page or the labels sheet, or a bearer token
as under /api, since the API hands out this URL as `qrUrl`)."""
from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.equipment import bp
from app.extensions import login_manager
from app.services import equipment
from app.services.errors import Unauthorized


def _reader():
    """The bearer token's user when the request carries one (401 when it is not live),
    else the signed-in user, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() == "bearer" and raw.strip():
        from app.services.users import user_for_token

        found = user_for_token(raw.strip())
        if found is None:
            raise Unauthorized(_("Invalid, expired or revoked token"))
        return found[0]
    return current_user if current_user.is_authenticated else None


@bp.get("/equipment/<unit_id>/qr.svg")
def qr_svg(unit_id):
    user = _reader()
    if user is None:
        return login_manager.unauthorized()
    unit = equipment.load_readable_unit(user, unit_id)
    response = Response(equipment.qr_svg(unit), mimetype="image/svg+xml")
    # The code holds the unit's secret report URL: kept by the reader's browser only.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
