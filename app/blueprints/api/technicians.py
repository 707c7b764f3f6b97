"""Technicians and their branch assignments."""
from flask import jsonify

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.models import Role
from app.services import access, assignment, technicians
from app.services.errors import NotFound
from app.services.validation import Fields


@bp.get("/technicians")
def list_technicians():
    access.require_staff(api_user())
    return jsonify([s.technician(t) for t in technicians.list_technicians()])


@bp.post("/technicians")
def create_technician():
    return jsonify(s.technician(technicians.create_technician(api_user(), json_body()))), 201


def _visible_technician(technician_id):
    user = api_user()
    if not access.is_staff(user) and not (user.role == Role.TECHNICIAN and user.technician_id == technician_id):
        raise NotFound("Technician not found")
    return technicians.get_technician(technician_id)


@bp.get("/technicians/<technician_id>")
def get_technician(technician_id):
    return jsonify(s.technician(_visible_technician(technician_id), with_assignments=True))


@bp.patch("/technicians/<technician_id>")
def update_technician(technician_id):
    t = _visible_technician(technician_id)
    return jsonify(s.technician(technicians.update_technician(api_user(), t, json_body()), with_assignments=True))


@bp.post("/technicians/<technician_id>/assign")
def assign_branch(technician_id):
    access.require_staff(api_user())
    data = json_body()
    f = Fields(data)
    branch_id = f.text("branchId", required=True, max_len=64)
    is_primary = f.boolean("isPrimary", default=True)
    territory = f.text("serviceTerritory", max_len=200)
    f.check()
    a = assignment.assign_to_branch(technician_id, branch_id, is_primary, territory)
    return jsonify(s.assignment(a)), 201


@bp.delete("/technician-assignments/<assignment_id>")
def end_assignment(assignment_id):
    access.require_staff(api_user())
    return jsonify(s.assignment(assignment.end_assignment(assignment_id)))
