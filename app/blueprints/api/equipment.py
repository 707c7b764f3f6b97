"""Equipment (API.md, "Equipment"): the registry, one unit with its figures, its history
and a new report token. Who may read a unit is `access.equipment_scope`; admins and
dispatchers change them."""
from flask import jsonify, request

from app.blueprints.api import api_user, bp, json_body, paged
from app.blueprints.api import serializers as s
from app.services import equipment


@bp.get("/equipment")
def list_equipment():
    """Units the caller may read, in asset-tag order: `branchId`, `kind`, `q`, `isActive`."""
    user = api_user()
    return paged(lambda limit, cursor: equipment.unit_page(user, equipment.parse_filters(request.args), limit, cursor),
                 s.equipment)


@bp.post("/equipment")
def create_equipment():
    user = api_user()
    unit = equipment.create_unit(user, json_body())
    return jsonify(s.equipment(unit)), 201


@bp.get("/equipment/<unit_id>")
def get_equipment(unit_id):
    """One unit with its `summary` (one aggregate query, whatever its history)."""
    unit = equipment.load_readable_unit(api_user(), unit_id)
    return jsonify(s.equipment(unit, equipment.summary(unit)))


@bp.patch("/equipment/<unit_id>")
def patch_equipment(unit_id):
    user = api_user()
    data = json_body()
    unit = equipment.load_readable_unit(user, unit_id)
    return jsonify(s.equipment(equipment.update_unit(unit, user, data)))


@bp.get("/equipment/<unit_id>/history")
def equipment_history(unit_id):
    """Created, edits, moves between branches, report-token changes: oldest first."""
    unit = equipment.load_readable_unit(api_user(), unit_id)
    return paged(lambda limit, cursor: equipment.history_page(unit, limit, cursor), s.equipment_event)


@bp.post("/equipment/<unit_id>/report-token")
def new_report_token(unit_id):
    """A new secret for the unit's report URL; the old URL answers 404 from now on."""
    user = api_user()
    unit = equipment.load_readable_unit(user, unit_id)
    return jsonify(s.equipment(equipment.replace_report_token(unit, user)))
