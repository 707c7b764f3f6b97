"""The service report: a one-page record of a closed job (ticket, branch, times, SLA met
or missed, work, parts, costs, photos, signature), as data for the printable page and
as a PDF built with fpdf2 (pure Python, from PyPI).

The page and the PDF read the same `ServiceReport`, so they cannot disagree.
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from babel.numbers import format_decimal
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from flask_babel import gettext as _, lazy_gettext as _l

from app.extensions import db
from app.models import (
    ApprovalStatus,
    ServiceCompletion,
    ServiceTicket,
    TicketPhoto,
    TicketStatus,
    User,
)
from app.services import access, sla_clock, timefmt
from app.services.errors import NotFound
from app.services.storage import get_storage
from app.services.store_views import PhotoSet, photo_set
from app.services.timefmt import local_str

log = logging.getLogger(__name__)

NOT_READY = _l("The service report is ready once the work is approved and the ticket is closed.")
PDF_PHOTOS_PER_ROW = 4


@dataclass
class ServiceReport:
    ticket: ServiceTicket
    completion: ServiceCompletion | None
    photos: PhotoSet
    response_met: bool
    resolution_met: bool
    approved_by: str | None
    technician_name: str | None
    technician_phone: str | None
    generated_at: datetime
    parts: list = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"service-report-{self.ticket.ticket_number}.pdf"


def load_report(user, ticket_id: str) -> ServiceReport:
    """The report of a CLOSED ticket the user may read (404 otherwise, with a message
    saying when it will be ready). The approved completion is the one reported."""
    from app import clock

    access.require_id(ticket_id, _("Ticket not found"))
    ticket = db.session.execute(
        select(ServiceTicket).where(ServiceTicket.id == ticket_id).options(
            selectinload(ServiceTicket.branch),
            selectinload(ServiceTicket.category),
            selectinload(ServiceTicket.subcategory),
            selectinload(ServiceTicket.assigned_technician),
            selectinload(ServiceTicket.photos),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.parts),
            selectinload(ServiceTicket.completions).selectinload(ServiceCompletion.photos),
        )
    ).scalar_one_or_none()
    access.require_read_ticket(user, ticket)
    if ticket.status != TicketStatus.CLOSED:
        raise NotFound(str(NOT_READY))
    approved = [c for c in ticket.completions if c.approval_status == ApprovalStatus.APPROVED]
    completion = approved[-1] if approved else None
    approver = None
    if completion is not None and completion.decided_by_id:
        approver = db.session.get(User, completion.decided_by_id)
    tech = ticket.assigned_technician
    return ServiceReport(
        ticket=ticket,
        completion=completion,
        photos=photo_set(ticket, completion) if completion else PhotoSet(
            before=[p for p in ticket.photos if p.type.value == "before"]),
        response_met=not sla_clock.response_breached(ticket),
        resolution_met=not sla_clock.resolution_breached(ticket),
        approved_by=approver.name if approver else None,
        technician_name=tech.name if tech else (completion.completed_by if completion else None),
        technician_phone=tech.phone if tech else None,
        generated_at=clock.now(),
        parts=list(completion.parts) if completion else [],
    )


# --- PDF -------------------------------------------------------------------------

_money = timefmt.money  # the pages' `money` filter: one way to write an amount, with its currency


def _when(dt, zone: bool = False) -> str:
    """A document outlives the year: its times always carry the year."""
    return local_str(dt, "full", zone=zone)


def _qty(value: Decimal) -> str:
    """A quantity as the reader's language writes it ("1.5", "1,5")."""
    return format_decimal(value.normalize(), locale=timefmt.locale(), decimal_quantization=False)


def _font_dir() -> str:
    return os.path.join(current_app.root_path, "static", "vendor", "fonts")


def _latin1(text: str) -> str:
    """Core PDF fonts speak Latin-1 only: used when the Unicode font is missing."""
    table = {"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
             "\u2026": "...", "\u2022": "*", "\u00a0": " "}
    return "".join(table.get(ch, ch) for ch in text).encode("latin-1", "replace").decode("latin-1")


class _Pdf:
    """A thin writer over fpdf2 with the few layouts the report needs."""

    def __init__(self, title: str):
        from fpdf import FPDF

        self.pdf = FPDF(orientation="P", unit="mm", format="A4")
        self.pdf.set_margins(14, 12, 14)
        self.pdf.set_auto_page_break(auto=True, margin=12)
        self.pdf.set_title(title)
        self.pdf.set_creator("Evercold Service Desk")
        regular = os.path.join(_font_dir(), "DejaVuSans.ttf")
        bold = os.path.join(_font_dir(), "DejaVuSans-Bold.ttf")
        if os.path.exists(regular) and os.path.exists(bold):
            self.pdf.add_font("DejaVu", "", regular)
            self.pdf.add_font("DejaVu", "B", bold)
            self.family, self.clean = "DejaVu", (lambda s: s)
        else:  # pragma: no cover - the fonts are vendored
            log.warning("report fonts missing in %s; non-Latin text will be replaced", _font_dir())
            self.family, self.clean = "Helvetica", _latin1
        self.pdf.add_page()
        self.width = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def text(self, value: str, size: float = 9, bold: bool = False, h: float = 4.6) -> None:
        self.font(size, bold)
        self.pdf.multi_cell(0, h, self.clean(value or "—"), align="L", new_x="LMARGIN", new_y="NEXT")

    def heading(self, value: str) -> None:
        self.pdf.ln(2.5)
        self.font(10.5, True)
        self.pdf.set_text_color(15, 41, 64)
        self.pdf.cell(0, 6, self.clean(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_draw_color(200, 208, 216)
        y = self.pdf.get_y()
        self.pdf.line(self.pdf.l_margin, y, self.pdf.l_margin + self.width, y)
        self.pdf.ln(1.2)
        self.pdf.set_text_color(28, 36, 48)

    def pairs(self, rows: list[tuple[str, str]], columns: int = 2) -> None:
        """Label/value pairs laid out in `columns` columns."""
        col_w = self.width / columns
        label_w = col_w * 0.38
        for i in range(0, len(rows), columns):
            y = self.pdf.get_y()
            bottom = y
            for j, (label, value) in enumerate(rows[i:i + columns]):
                x = self.pdf.l_margin + j * col_w
                self.pdf.set_xy(x, y)
                self.font(8, True)
                self.pdf.set_text_color(93, 107, 124)
                self.pdf.multi_cell(label_w, 4.4, self.clean(label), align="L", new_x="RIGHT", new_y="TOP")
                self.pdf.set_xy(x + label_w, y)
                self.font(8.5)
                self.pdf.set_text_color(28, 36, 48)
                self.pdf.multi_cell(col_w - label_w - 2, 4.4, self.clean(value or ("—" if label else "")),
                                    align="L", new_x="LMARGIN", new_y="NEXT")
                bottom = max(bottom, self.pdf.get_y())
            self.pdf.set_y(bottom + 0.6)

    def table(self, headings: list[str], rows: list[list[str]], widths: tuple, align: tuple,
              bold_last: int = 0) -> None:
        from fpdf.fonts import FontFace

        self.font(8.5)
        with self.pdf.table(col_widths=widths, text_align=align, line_height=4.8, padding=1,
                            headings_style=FontFace(emphasis="BOLD", color=(93, 107, 124)),
                            first_row_as_headings=True, borders_layout="HORIZONTAL_LINES") as table:
            head = table.row()
            for h in headings:
                head.cell(self.clean(h))
            bold = FontFace(emphasis="BOLD")
            for i, r in enumerate(rows):
                row = table.row()
                for v in r:
                    row.cell(self.clean(v), style=bold if i >= len(rows) - bold_last else None)

    def photo_groups(self, groups: list[tuple[str, list[bytes]]], h: float = 30) -> None:
        """Labelled groups of photos side by side (before | after), each in its half."""
        if self.pdf.get_y() + h + 5 > self.pdf.h - self.pdf.b_margin:
            self.pdf.add_page()
        y = self.pdf.get_y()
        gap = 3
        group_w = (self.width - gap * (len(groups) - 1)) / len(groups)
        per_group = PDF_PHOTOS_PER_ROW // len(groups)
        box_w = (group_w - gap * (per_group - 1)) / per_group
        for g, (label, items) in enumerate(groups):
            x0 = self.pdf.l_margin + g * (group_w + gap)
            self.pdf.set_xy(x0, y)
            self.font(8, True)
            self.pdf.set_text_color(93, 107, 124)
            self.pdf.cell(group_w, 4.5, self.clean(label), new_x="LMARGIN", new_y="NEXT")
            self.pdf.set_text_color(28, 36, 48)
            if not items:
                self.pdf.set_xy(x0, y + 5)
                self.font(8)
                self.pdf.cell(group_w, 4.5, _("None"), new_x="LMARGIN", new_y="NEXT")
            for i, data in enumerate(items[:per_group]):
                self.pdf.image(io.BytesIO(data), x=x0 + i * (box_w + gap), y=y + 5, w=box_w, h=h,
                               keep_aspect_ratio=True)
        self.pdf.set_y(y + 5 + h + 1.5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _file(key: str | None) -> bytes | None:
    if not key:
        return None
    try:
        return get_storage().get(key)
    except (FileNotFoundError, ValueError):
        log.warning("report: file %s is missing", key)
        return None


def _thumbs(photos: list[TicketPhoto]) -> list[bytes]:
    return [b for b in (_file(p.thumb_key) for p in photos[:PDF_PHOTOS_PER_ROW // 2]) if b]


def sla_words(met: bool) -> str:
    """The SLA's outcome as a word for a CSS class ("sla-met")."""
    return "met" if met else "missed"


def _sla_line(met: bool, due: str) -> str:
    return _("Met (due %(when)s)", when=due) if met else _("Missed (due %(when)s)", when=due)


def render_pdf(report: ServiceReport) -> bytes:
    """The same content as the printable page, on one A4 page for a usual job."""
    t, c, b = report.ticket, report.completion, report.ticket.branch
    doc = _Pdf(_("Service report %(number)s", number=t.ticket_number))
    pdf = doc.pdf

    doc.font(15, True)
    pdf.cell(doc.width * 0.6, 8, _("Service report"), new_x="RIGHT", new_y="TOP")
    doc.font(12, True)
    pdf.cell(doc.width * 0.4, 8, t.ticket_number, align="R", new_x="LMARGIN", new_y="NEXT")
    doc.font(8)
    pdf.set_text_color(93, 107, 124)
    pdf.cell(0, 4.5, doc.clean(_("Evercold Service Desk · generated %(when)s · times in %(zone)s",
                                 when=_when(report.generated_at), zone=timefmt.zone_label(report.generated_at))),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(28, 36, 48)

    doc.heading(_("Ticket"))
    doc.pairs([
        (_("Branch"), f"{b.branch_code} · {b.branch_name}"),
        (_("Address"), b.address or "—"),
        (_("Problem"), f"{t.category.display_name} / {t.subcategory.display_name}"),
        (_("Priority"), str(t.priority.label)),
        (_("Technician"), " · ".join(x for x in (report.technician_name, report.technician_phone) if x) or "—"),
        (_("Contact"), " · ".join(x for x in (t.contact_name, t.contact_phone) if x) or "—"),
    ])
    pdf.ln(0.5)
    pdf.set_text_color(93, 107, 124)
    doc.text(_("Problem reported"), size=8, bold=True)
    pdf.set_text_color(28, 36, 48)
    doc.text(t.description, size=8.5)

    doc.heading(_("Times and SLA"))
    doc.pairs([
        (_("Reported"), _when(t.created_at)),
        (_("Responded"), _when(t.first_response_at)),
        (_("On site"), _when(t.arrived_at)),
        (_("Work finished"), _when(t.completed_at)),
        (_("Closed"), _when(t.closed_at)),
        ("", ""),
        (_("Response SLA"), _sla_line(report.response_met, _when(t.response_due_at, zone=True))),
        (_("Resolution SLA"), _sla_line(report.resolution_met, _when(t.resolution_due_at, zone=True))),
    ])

    doc.heading(_("Work done"))
    if c is None:
        doc.text(_("Closed without a completed job. Reason: %(reason)s", reason=t.close_reason or "—"), size=8.5)
    else:
        doc.text(c.work_description, size=8.5)
        pdf.ln(1)
        rows = [[p.name, _qty(p.quantity), _money(p.unit_cost), _money(p.total)] for p in report.parts]
        rows.append([_("Labour: %(hours)s h × %(rate)s", hours=_qty(c.labor_hours), rate=_money(c.labor_cost_per_hour)),
                     "", "", _money(c.labor_cost)])
        rows.append([_("Parts total"), "", "", _money(c.parts_cost)])
        rows.append([_("Total"), "", "", _money(c.total_cost)])
        doc.table([_("Part"), _("Qty"), _("Unit price"), _("Amount")], rows, (52, 12, 18, 18), ("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                  bold_last=1)

    if report.photos.problem or report.photos.after:
        doc.heading(_("Photos"))
        doc.photo_groups([(_("Before"), _thumbs(report.photos.problem)), (_("After"), _thumbs(report.photos.after))])

    if c is not None:
        doc.heading(_("Approval"))
        signature = _file(c.signature_key)
        y = pdf.get_y()
        if y + 28 > pdf.h - pdf.b_margin:
            pdf.add_page()
            y = pdf.get_y()
        if signature:
            pdf.image(io.BytesIO(signature), x=pdf.l_margin, y=y, w=60, h=24, keep_aspect_ratio=True)
        pdf.set_xy(pdf.l_margin + 66, y + 2)
        doc.font(8.5)
        pdf.multi_cell(doc.width - 66, 4.8, doc.clean("\n".join((
            _("Signed by %(name)s", name=c.signed_by or "—"),
            _("on %(when)s", when=_when(c.signed_at, zone=True)),
            _("Approved in the app by %(name)s", name=report.approved_by or "—")))), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 26))
    return doc.output()
