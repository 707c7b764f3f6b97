"""Working calendars (API.md, "Working calendars"): list (everyone signed in), create and
edit (admins and dispatchers). The rules live in services/calendar_admin.py."""
from flask import jsonify

from app.blueprints.api import api_user, bp, json_body
from app.blueprints.api import serializers as s
from app.services import calendar_admin


@bp.get("/calendars")
def list_calendars():
    return jsonify([s.calendar(c) for c in calendar_admin.list_calendars(api_user())])


@bp.post("/calendars")
def create_calendar():
    return jsonify(s.calendar(calendar_admin.create_calendar(json_body(), api_user()))), 201


@bp.patch("/calendars/<calendar_id>")
def update_calendar(calendar_id):
    return jsonify(s.calendar(calendar_admin.update_calendar(calendar_id, json_body(), api_user())))
