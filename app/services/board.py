"""The dispatcher's read models: the live board (with its "Just arrived" strip), the
ticket list, the SLA countdowns and reassignment candidates; the lists the management
pages show live in services/board_lists.py (re-exported here).

Everything here reads; nothing writes. Each list is one query (plus one per board
column), eager-loaded so templates never touch the database. SLA colours are decided
here from `clock.now()`; the page's script only moves the countdown text forward.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from babel.numbers import format_decimal
from flask import current_app
from app.i18n import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, or_, select

from app import json_input
from app.extensions import db
from app.models import (
    ApprovalStatus,
    CustomerBranch,
    IssueSubcategory,
    ServiceCompletion,
    ServiceTicket,
    Technician,
    TechnicianStatus,
    TicketStatus,
)
from app import clock
from app.services import assignment, board_version, sla_clock, ticket_queries, timefmt
from app.services.errors import ValidationError
from app.services.board_lists import (  # noqa: F401  (the pages ask the board module for these)
    FilterOptions,
    TechnicianRow,
    active_branches,
    branch_with_customer,
    categories_with_subcategories,
    customers_with_branches,
    filter_options,
    humanize,
    located_ago,
    paused_words,
    technician_rows,
    technician_with_assignments,
)
from app.services.reference import local_text
from app.services.tickets import haversine_m

# Columns, left to right. CLOSED shows only what closed recently.
BOARD_COLUMNS = (
    (TicketStatus.NEW, _l("New")),
    (TicketStatus.ASSIGNED, _l("Assigned")),
    (TicketStatus.IN_PROGRESS, _l("In progress")),
    (TicketStatus.COMPLETED, _l("Awaiting approval")),
    (TicketStatus.CLOSED, _l("Closed (24 h)")),
)
BOARD_ACTIVE = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.COMPLETED)
RECENT_CLOSED = timedelta(hours=24)
# A screen shows a handful of cards per column; the most urgent come first and the
# rest are one click away in the list (rendering hundreds would cost more than the data).
CARDS_PER_COLUMN = 20
CLOSED_CARDS = 10
LIST_PAGE_SIZE = 50
# However long a column is, a ticket created in the last few minutes is shown in the
# "Just arrived" strip above the columns (BOARD_ARRIVALS_MINUTES, default 10).
ARRIVALS_MINUTES = 10
ARRIVAL_CARDS = 12

FILTER_ARGS = ("priority", "branchId", "technicianId", "categoryId", "overdue", "q")


# --- SLA countdown (the rules are the SLA clock's: services/sla_clock.py) ------------

@dataclass(frozen=True)
class Countdown:
    """An SLA clock as a board card, a list row or the ticket page shows it: the clock's
    state (sla_clock: ok, warning, overdue, met, missed, cancelled, paused) with its words.
    A paused clock says why and for how long ("Paused · Waiting for parts · 3h 05m"):
    neither red nor amber, whatever its due time."""

    kind: str  # "response" | "resolution"
    state: str
    due_at: datetime
    warn_at: datetime | None
    running: bool
    seconds_left: float
    text: str

    @property
    def short(self) -> str:
        """The few words a board card has room for."""
        if self.state == sla_clock.MET:
            return _("on time")
        if self.state == sla_clock.MISSED:
            return _("%(time)s late", time=humanize(self.seconds_left))
        if self.state == sla_clock.CANCELLED:
            return _("cancelled")
        return self.text


def _words(c: sla_clock.Clock) -> str:
    response = c.kind == sla_clock.RESPONSE
    if c.state == sla_clock.MET:
        return _("responded in time") if response else _("resolved in time")
    if c.state == sla_clock.MISSED:
        late = humanize(-c.seconds_left)
        return _("responded %(time)s late", time=late) if response else _("late by %(time)s", time=late)
    if c.state == sla_clock.CANCELLED:
        return _("closed without a response") if response else _("closed without completion")
    if c.state == sla_clock.OVERDUE:
        return _("overdue %(time)s", time=humanize(c.seconds_left))
    return _("%(time)s left", time=humanize(c.seconds_left))


def countdown_words() -> dict[str, str]:
    """What static/js/board.js needs to move the countdowns and ages forward in the
    reader's language: the sentences above and timefmt.span's compact units, as their
    translated formats with the named placeholders left in ("%(time)s left"; gettext
    without arguments does not format). The template puts them in data-* attributes;
    the script fills in the numbers."""
    return {"left": _("%(time)s left"), "overdue": _("overdue %(time)s"),
            "s": _("%(seconds)ds"), "m": _("%(minutes)dm"),
            "hm": _("%(hours)dh %(minutes)02dm"), "dh": _("%(days)dd %(hours)dh")}


def _countdown(c: sla_clock.Clock, ticket=None, now: datetime | None = None) -> Countdown:
    if c.state == sla_clock.PAUSED and ticket is not None:
        words = paused_words(ticket, now or clock.now())
    else:
        words = _words(c)
    return Countdown(c.kind, c.state, c.due_at, c.warn_at, c.running, c.seconds_left, words)


def countdown(ticket: ServiceTicket, now: datetime) -> Countdown:
    """The SLA clock that matters for this ticket now (sla_clock.clock_for)."""
    return _countdown(sla_clock.clock_for(ticket, now), ticket, now)


# --- filters -----------------------------------------------------------------------

def parse_filters(args) -> dict:
    """The board's filters from a query string (the API's names; no status: the
    columns are the statuses)."""
    raw = {k: v for k, v in args.items() if k in FILTER_ARGS or k == "status"}
    try:
        return ticket_queries.parse_filters(raw)
    except ValidationError as exc:
        # The error page has no filter bar to mark: name the filter in the message.
        wrong = "; ".join(f"{name}: {message}" for name, message in exc.fields.items())
        raise ValidationError(_("A filter in the link is not valid (%(problem)s); clear the filters and choose again.",
                                problem=wrong), exc.fields) from None


def filter_args(filters: dict, *, with_status: bool = False) -> dict:
    """Filters back to query-string arguments (for poll URLs and links)."""
    out = {}
    if filters.get("priority"):
        out["priority"] = filters["priority"].value
    for key, arg in (("branch_id", "branchId"), ("technician_id", "technicianId"), ("category_id", "categoryId"),
                     ("q", "q")):
        if filters.get(key):
            out[arg] = filters[key]
    if filters.get("overdue"):
        out["overdue"] = "true"
    if with_status and filters.get("status"):
        out["status"] = filters["status"].value
    return out


def _board_filters(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if k != "status"}


def _visible(closed_since):
    """What the board shows: every active ticket, and tickets closed since `closed_since`
    (RECENT_CLOSED ago; a time or a bound parameter)."""
    return or_(
        ServiceTicket.status.in_(BOARD_ACTIVE),
        and_(ServiceTicket.status == TicketStatus.CLOSED, ServiceTicket.closed_at >= closed_since),
    )


# --- statements built once -------------------------------------------------------------
#
# Building a statement (and its cache key) costs more Python than executing it: the
# board's five statements are built once per combination of equality filters chosen,
# with the filters' values and the moments they compare against as bound parameters.
# A board filtered by overdue or by a search is built per request (rarer, and their
# conditions carry the time and the words in them).

_REUSABLE_FILTERS = frozenset(name for name, _column in ticket_queries.EQUALITY_FILTERS) - {"status"}
_BUILT: dict[tuple, Any] = {}


def _statement(kind: tuple, filters: dict, build, **moments):
    """(statement, parameters) for `build(filters, **moments)`: the statement built
    once per `kind` and set of filters chosen, or built now with the values in it."""
    chosen = tuple(sorted(name for name, value in filters.items() if value))
    if not set(chosen) <= _REUSABLE_FILTERS:
        return build(filters, **moments), {}
    key = (kind, chosen, CARDS_PER_COLUMN, CLOSED_CARDS, ARRIVAL_CARDS, RECENT_CLOSED)  # the settings built in
    stmt = _BUILT.get(key)
    if stmt is None:
        stmt = _BUILT[key] = build({name: True for name in chosen}, reusable=True,
                                   **{name: bindparam(name) for name in moments})
    params = {ticket_queries.filter_parameter(name): filters[name] for name in chosen}
    params.update(moments)
    return stmt, params


def _filter(stmt, filters: dict, reusable: bool = False, now: datetime | None = None):
    if reusable:
        return ticket_queries.filtered_by_parameters(stmt, filters)
    return ticket_queries.filtered(stmt, filters, now)


# --- the board ---------------------------------------------------------------------

def _sent_back():
    """True for a ticket the store sent back: back in progress with rejected work (the
    same rule as the technician's queue, tech_workspace.rejected_completion)."""
    return and_(ServiceTicket.status == TicketStatus.IN_PROGRESS, exists().where(
        ServiceCompletion.ticket_id == ServiceTicket.id,
        ServiceCompletion.approval_status == ApprovalStatus.REJECTED))


_CARD_SELECT = None


def _card_select():
    """The columns a card or a list row shows, as plain rows (no ORM objects to build):
    the ticket's own fields with its branch, subcategory and technician names. Built
    once (statements are immutable: each `.where()` makes a new one)."""
    global _CARD_SELECT
    if _CARD_SELECT is None:
        _CARD_SELECT = _build_card_select()
    return _CARD_SELECT


def _build_card_select():
    return (
        select(ServiceTicket.id, ServiceTicket.ticket_number, ServiceTicket.external_id, ServiceTicket.status,
               ServiceTicket.priority, ServiceTicket.version, ServiceTicket.created_at,
               ServiceTicket.first_response_at, ServiceTicket.arrived_at, ServiceTicket.completed_at,
               ServiceTicket.closed_at, ServiceTicket.response_due_at, ServiceTicket.resolution_due_at,
               ServiceTicket.response_warn_at, ServiceTicket.resolution_warn_at,
               ServiceTicket.paused_at, ServiceTicket.pause_reason,
               CustomerBranch.branch_code, CustomerBranch.branch_name,
               IssueSubcategory.name.label("subcategory_name"),
               IssueSubcategory.name_translations.label("subcategory_translations"),
               Technician.name.label("technician_name"),
               _sent_back().label("sent_back"))
        .select_from(ServiceTicket)
        .join(CustomerBranch, CustomerBranch.id == ServiceTicket.branch_id)
        .join(IssueSubcategory, IssueSubcategory.id == ServiceTicket.subcategory_id)
        .outerjoin(Technician, Technician.id == ServiceTicket.assigned_technician_id)
    )


@dataclass
class Card:
    ticket: Any  # a row of _card_select()
    countdown: Countdown
    age_seconds: float
    age_text: str

    @property
    def on_site(self) -> bool:
        return self.ticket.arrived_at is not None and self.ticket.status == TicketStatus.IN_PROGRESS

    def render_key(self) -> tuple:
        """Every value the card's template (_ticket_card.html) reads, as a key for its
        rendered HTML (app/fragments.py): the row (the subcategory as the reader sees
        it in place of its translations), the clock's words and due times (not its
        running seconds, which the template never shows) and the age text."""
        t = self.ticket
        row = tuple(v for k, v in t._mapping.items() if k != "subcategory_translations")
        cd = self.countdown
        return (row, local_text(t.subcategory_name, t.subcategory_translations),
                cd.kind, cd.state, cd.due_at, cd.warn_at, cd.running, cd.text, cd.short, self.age_text)


@dataclass
class Column:
    status: TicketStatus
    title: str
    total: int
    cards: list[Card] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return max(self.total - len(self.cards), 0)


@dataclass
class Board:
    stamp: str
    now: datetime
    filters: dict
    counts: dict
    columns: list[Column] = field(default_factory=list)
    arrivals: list[Card] = field(default_factory=list)  # created in the last few minutes, newest first
    arrivals_since: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.columns for card in c.cards if card.countdown.state == sla_clock.OVERDUE)


def board_summary(filters: dict, now: datetime | None = None) -> tuple[int, dict, datetime | None, datetime | None]:
    """(the board's change counters, counts per status, when the newest open ticket was
    created, when the oldest closed ticket shown was closed) in one aggregate query
    over the filtered board (the counters in the same statement, so they are never
    newer than the rows read)."""
    now = now or clock.now()
    stmt, params = _statement(("summary",), _board_filters(filters), partial(_summary_query, now=now),
                              closed_since=now - RECENT_CLOSED)
    counts: dict[TicketStatus, int] = {}
    newest = oldest_closed = None
    current = None
    for status, count, created, closed, current in db.session.execute(stmt, params):
        status = TicketStatus(status)
        counts[status] = count
        if status == TicketStatus.CLOSED:
            oldest_closed = closed
        elif created is not None:
            newest = created if newest is None else max(newest, created)
    if current is None:  # an empty board: no row carried them
        current = board_version.current(filters.get("branch_id"))
    return int(current), counts, newest, oldest_closed


def _summary_query(filters: dict, closed_since, reusable: bool = False, now: datetime | None = None):
    if reusable:
        branch = bindparam(ticket_queries.filter_parameter("branch_id")) if filters.get("branch_id") else None
    else:
        branch = filters.get("branch_id")
    stmt = (
        select(ServiceTicket.status, func.count(), func.max(ServiceTicket.created_at),
               func.min(ServiceTicket.closed_at), board_version.version_query(branch))
        .where(_visible(closed_since))
        .group_by(ServiceTicket.status)
    )
    return _filter(stmt, filters, reusable, now)


# --- the stamp: what an idle poll compares -----------------------------------------
#
# "<version>.<until>": the board's change counters when the page was drawn
# (services/board_version.py) and the moment (epoch seconds) it goes stale by time
# alone: the oldest closed ticket leaves the 24 h column, a ticket turns overdue on an
# "overdue" board, or at the latest POLL_MAX_AGE after drawing (a safety net for
# anything else time moves). Until then, the same counters mean the same board.

POLL_MAX_AGE = timedelta(minutes=5)


def _stamp(version: int, until: datetime) -> str:
    return f"{version}.{int(until.timestamp())}"


def parse_stamp(stamp: str | None) -> tuple[int, int] | None:
    version, _, until = (stamp or "").partition(".")
    if not (version.isdigit() and until.isdigit()) or len(stamp) > 40:
        return None
    return int(version), int(until)


def still_current(stamp: tuple[int, int] | None, version: int, now: datetime | None = None) -> bool:
    """True when a page drawn at `stamp` still shows what the board would show now."""
    if stamp is None:
        return False
    now = now or clock.now()
    return stamp[0] == int(version) and now.timestamp() < stamp[1]


def _stale_at(filters: dict, now: datetime, oldest_closed: datetime | None) -> datetime:
    until = now + POLL_MAX_AGE
    if oldest_closed is not None:
        until = min(until, _aware(oldest_closed) + RECENT_CLOSED)
    if filters.get("overdue"):
        # The next open ticket (of the other filters) to turn overdue joins this board.
        soon = select(func.min(sla_clock.sql_running_due())).where(
            ServiceTicket.status.in_(BOARD_ACTIVE), sla_clock.sql_running_due() >= sla_clock._at(now))
        soon = ticket_queries.filtered(soon, {**_board_filters(filters), "overdue": False}, now)
        due = db.session.execute(soon).scalar()
        if due is not None:
            until = min(until, _aware(due))
    return until


def arrivals_window() -> timedelta:
    minutes = current_app.config.get("BOARD_ARRIVALS_MINUTES", ARRIVALS_MINUTES)
    return timedelta(minutes=max(int(minutes), 0))


def _arrivals_query(filters: dict, since, reusable: bool = False, now: datetime | None = None):
    """Open tickets created since `since`, newest first: the "Just arrived" strip."""
    ids = select(ServiceTicket.id).where(ServiceTicket.status.in_(BOARD_ACTIVE), ServiceTicket.created_at >= since)
    ids = _filter(ids, filters, reusable, now)
    order = (ServiceTicket.created_at.desc(), ServiceTicket.id)
    return _card_select().where(ServiceTicket.id.in_(ids.order_by(*order).limit(ARRIVAL_CARDS))).order_by(*order)


def _column_query(status: TicketStatus, filters: dict, closed_since=None, reusable: bool = False,
                  now: datetime | None = None):
    """One column's cards, most urgent first. The ticket ids are picked (filtered,
    sorted, limited) before the branch, subcategory and technician are joined, so the
    joins touch only the cards shown, not every ticket in the column."""
    ids = select(ServiceTicket.id).where(ServiceTicket.status == status)
    ids = _filter(ids, filters, reusable, now)
    limit = CARDS_PER_COLUMN
    if status == TicketStatus.CLOSED:
        ids = ids.where(ServiceTicket.closed_at >= closed_since)
        order = (ServiceTicket.closed_at.desc(), ServiceTicket.id)
        limit = CLOSED_CARDS
    elif status == TicketStatus.COMPLETED:
        # Longest waiting for the store's approval first.
        order = (ServiceTicket.completed_at, ServiceTicket.id)
    else:
        # The nearest deadline of the clock each ticket races (sla_clock) first.
        order = (sla_clock.sql_running_due(), ServiceTicket.id)
    return _card_select().where(ServiceTicket.id.in_(ids.order_by(*order).limit(limit))).order_by(*order)


def load_board(filters: dict) -> Board:
    """The board for these filters.

    Queries: one aggregate (counts and change counters; read first, so a change
    committed while the columns are read makes the next poll draw the board again),
    then one per non-empty column, and one for the "Just arrived" strip when a ticket
    was created within the window.
    """
    now = clock.now()
    version, counts, newest, oldest_closed = board_summary(filters, now)
    stamp = _stamp(version, _stale_at(filters, now, oldest_closed))
    board = Board(stamp=stamp, now=now, filters=filters, counts=counts)
    shown = _board_filters(filters)
    window = arrivals_window()
    if window and newest is not None and _aware(newest) >= now - window:
        board.arrivals_since = now - window
        stmt, params = _statement(("arrivals",), shown, partial(_arrivals_query, now=now),
                                  since=board.arrivals_since)
        for ticket in db.session.execute(stmt, params):
            board.arrivals.append(_card(ticket, now))
    for status, title in BOARD_COLUMNS:
        total = counts.get(status, 0)
        column = Column(status=status, title=title, total=total)
        if total:
            moments = {"closed_since": now - RECENT_CLOSED} if status == TicketStatus.CLOSED else {}
            stmt, params = _statement(("column", status), shown, partial(_column_query, status, now=now), **moments)
            for ticket in db.session.execute(stmt, params):
                column.cards.append(_card(ticket, now))
        board.columns.append(column)
    return board


def _card(ticket, now: datetime) -> Card:
    age = (now - ticket.created_at).total_seconds()
    return Card(ticket, countdown(ticket, now), age, humanize(age))


def _aware(at: datetime) -> datetime:
    """An aggregate's datetime (SQLite hands back a naive UTC one from MAX())."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


# --- the ticket list (every ticket, paginated) ---------------------------------

def encode_cursor(ticket) -> str:
    raw = json.dumps([ticket.created_at.isoformat(), ticket.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ticket_id = json_input.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(at)
        if at.tzinfo is None or not isinstance(ticket_id, str):
            raise ValueError
        return at, ticket_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError(_("This page link is broken; start from the first page"), {"after": _("Invalid cursor.")})


@dataclass
class ListRow:
    ticket: Any  # a row of _card_select()
    countdown: Countdown


TICKET_NUMBER = re.compile(r"TKT-\d{6}-\d{5,6}", re.IGNORECASE)


def _exact_number(filters: dict) -> dict:
    """A whole ticket number is looked up by its unique index, not by a substring scan
    over every ticket's number, external id and description."""
    q = (filters.get("q") or "").strip()
    if TICKET_NUMBER.fullmatch(q):
        return {**filters, "q": None, "ticket_number": q.upper()}
    return filters


def ticket_list(filters: dict, after: str | None = None, limit: int = LIST_PAGE_SIZE):
    """Every ticket (closed ones too), newest first, keyset-paginated on (createdAt, id):
    one query per page however deep the page."""
    now = clock.now()
    filters = _exact_number(filters)
    stmt = ticket_queries.filtered(_card_select(), filters, now)
    if filters.get("ticket_number"):
        stmt = stmt.where(ServiceTicket.ticket_number == filters["ticket_number"])
    if after:
        at, ticket_id = decode_cursor(after)
        stmt = stmt.where(or_(ServiceTicket.created_at < at,
                              and_(ServiceTicket.created_at == at, ServiceTicket.id < ticket_id)))
    stmt = stmt.order_by(ServiceTicket.created_at.desc(), ServiceTicket.id.desc()).limit(limit + 1)
    tickets = list(db.session.execute(stmt))
    more = len(tickets) > limit
    tickets = tickets[:limit]
    rows = [ListRow(t, countdown(t, now)) for t in tickets]
    return rows, (encode_cursor(tickets[-1]) if more and tickets else None)


# --- the ticket page's clocks (the page itself: services/ticket_page.py) ------------

def response_countdown(ticket: ServiceTicket, now: datetime) -> Countdown:
    return _countdown(sla_clock.response_clock(ticket, now))


def resolution_countdown(ticket: ServiceTicket, now: datetime) -> Countdown:
    return _countdown(sla_clock.resolution_clock(ticket, now), ticket, now)


# --- reassignment candidates -----------------------------------------------------

@dataclass
class Candidate:
    technician: Technician
    role: str | None  # "primary" | "secondary" | None (another branch's technician)
    distance_m: float | None
    located_ago: str | None

    @property
    def distance_text(self) -> str:
        if self.distance_m is None:
            return _("location unknown")
        if self.distance_m < 1000:
            return _("%(distance)s m away", distance=format_decimal(round(self.distance_m), locale=timefmt.locale()))
        return _("%(distance)s km away",
                 distance=format_decimal(round(self.distance_m / 1000, 1), format="0.0", locale=timefmt.locale()))


def reassign_candidates(ticket: ServiceTicket) -> list[Candidate]:
    """ACTIVE technicians only: the branch's own (primary, then secondary) first, then
    everyone else by distance from their last reported location to the branch."""
    now = clock.now()
    own = {a.technician_id: ("primary" if a.is_primary else "secondary")
           for a in assignment.current_assignments(ticket.branch_id).values()}
    technicians = db.session.execute(
        select(Technician).where(Technician.status == TechnicianStatus.ACTIVE).order_by(Technician.name)
    ).scalars()
    branch = ticket.branch
    out = []
    for t in technicians:
        distance = None
        if None not in (t.latitude, t.longitude, branch.latitude, branch.longitude):
            distance = haversine_m(t.latitude, t.longitude, branch.latitude, branch.longitude)
        out.append(Candidate(t, own.get(t.id), distance, located_ago(t, now)))
    role_rank = {"primary": 0, "secondary": 1, None: 2}
    out.sort(key=lambda c: (role_rank[c.role], c.distance_m is None, c.distance_m or 0, c.technician.name))
    return out
