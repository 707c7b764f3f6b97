"""API: analytics, dispatchers and admins only. The contract (API.md, "Analytics"):
"`from` and `to` are dates (`YYYY-MM-DD`, inclusive, in `APP_TIMEZONE`) or ISO datetimes.
Both answer `{"rows": [...]}`"; `/api/analytics/sla?groupBy=priority|category|branch|
technician` over tickets created in the range, `/api/analytics/costs?groupBy=branch|month|
technician|category` over approved completions whose ticket was closed in the range;
`/api/analytics/pauses?groupBy=reason|branch|technician` over pauses begun in the range."""
from flask import jsonify, request

from app.blueprints.api import api_user, bp
from app.blueprints.api.serializers import money
from app.services import access, analytics


@bp.get("/analytics/sla")
def analytics_sla():
    """SLA compliance over tickets created in the range, grouped by one dimension."""
    access.require_staff(api_user())
    rng = analytics.api_range(request.args.get("from"), request.args.get("to"))
    group = analytics.parse_group_by(request.args.get("groupBy"), analytics.SLA_API_GROUPS)
    rows = analytics.sla_report(rng, analytics.Filters(), (group,), time_dims=(group,))[group]
    return jsonify({"rows": [{
        "key": r["key"], "label": r["label"], "tickets": r["tickets"],
        "responseMeasured": r["responseMeasured"], "responseMet": r["responseMet"],
        "responseCompliance": r["responseCompliance"],
        "resolutionMeasured": r["resolutionMeasured"], "resolutionMet": r["resolutionMet"],
        "resolutionCompliance": r["resolutionCompliance"],
        "medianResponseMinutes": r["medianResponseMinutes"],
        "medianResolutionMinutes": r["medianResolutionMinutes"],
    } for r in rows]})


@bp.get("/analytics/costs")
def analytics_costs():
    """Parts, labour and total of approved work on tickets closed in the range."""
    access.require_staff(api_user())
    rng = analytics.api_range(request.args.get("from"), request.args.get("to"))
    group = analytics.parse_group_by(request.args.get("groupBy"), analytics.COST_API_GROUPS)
    rows = analytics.cost_report(rng, analytics.Filters(), (group,))[group]
    return jsonify({"rows": [{
        "key": r["key"], "label": r["label"], "tickets": r["tickets"],
        "partsCost": money(r["partsCost"]), "laborCost": money(r["laborCost"]),
        "totalCost": money(r["totalCost"]),
    } for r in rows]})


@bp.get("/analytics/pauses")
def analytics_pauses():
    """How often and how long the resolution clock was paused (pauses begun in the range)."""
    access.require_staff(api_user())
    rng = analytics.api_range(request.args.get("from"), request.args.get("to"))
    group = analytics.parse_group_by(request.args.get("groupBy"), analytics.PAUSE_API_GROUPS)
    return jsonify({"rows": analytics.pause_report(rng, analytics.Filters(), group)})
