"""The analytics page and its CSV exports (dispatchers and admins)."""
from flask import Response, abort, request

from app.auth_helpers import staff_required
from app.blueprints.analytics import bp, charts, tables
from app.blueprints.analytics.forms import AnalyticsForm
from app.services import analytics
from app.web import render_page_or_partial


@bp.get("")
@staff_required
def dashboard():
    """SLA compliance, at-risk tickets, technicians, cost and repeat faults for a period
    and filters taken from the query string (htmx swaps just the body)."""
    form = AnalyticsForm(request.args, analytics.filter_options())
    report = analytics.dashboard(form.range, form.filters, request.args.get("pausesBy") or "reason") \
        if form.validate() else None
    return render_page_or_partial("analytics/dashboard.html", "analytics/_body.html", form=form, report=report,
                                  tables=tables.TABLES, charts=charts.build(report), fmt=tables)


@bp.get("/<key>.csv")
@staff_required
def export_csv(key):
    """One table of the page as CSV (UTF-8 with BOM, header row), same period and filters."""
    table = tables.get(key) or abort(404)
    form = AnalyticsForm(request.args, analytics.filter_options())
    if not form.validate():
        abort(400)
    body = analytics.csv_bytes(table.headers, table.csv_rows(table.compute(form.range, form.filters)))
    return Response(body, mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{table.filename(form.url_args())}"',
    })
