"""Technicians and their branch assignments."""
from flask import jsonify

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.services import assignment, technicians


@bp.get("/technicians")
def list_technicians():
    return jsonify([s.technician(t) for t in technicians.list_visible_technicians(api_user())])


@bp.post("/technicians")
def create_technician():
    return jsonify(s.technician(technicians.create_technician(api_user(), json_body()))), 201


@bp.get("/technicians/<technician_id>")
def get_technician(technician_id):
    """One technician with their branch assignments (past and current)."""
    t = technicians.get_visible_technician(api_user(), technician_id)
    return jsonify(s.technician(t, with_assignments=True))


@bp.patch("/technicians/<technician_id>")
def update_technician(technician_id):
    """Staff: status, name, phone, email, location. A technician: their own location."""
    user = api_user()
    t = technicians.get_visible_technician(user, technician_id)
    return jsonify(s.technician(technicians.update_technician(user, t, json_body()), with_assignments=True))


@bp.post("/technicians/<technician_id>/assign")
def assign_branch(technician_id):
    """Make the technician a branch's primary (default) or secondary."""
    a = assignment.assign_from_request(api_user(), technician_id, json_body())
    return jsonify(s.assignment(a)), 201


@bp.delete("/technician-assignments/<assignment_id>")
def end_assignment(assignment_id):
    return jsonify(s.assignment(assignment.end_assignment(assignment_id, api_user())))
