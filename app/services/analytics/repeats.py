"""Repeat faults: a ticket within 30 days of approved work on the same branch and subcategory.

See app/services/analytics/__init__.py for the definitions every report shares.
"""

from __future__ import annotations


from sqlalchemy import (
    and_,
    case,
    cast,
    func,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    CustomerBranch,
    IssueSubcategory,
    ServiceTicket,
    TicketStatus,
)
from app.models.types import UTCDateTime
from app.services.analytics.periods import DateRange, Filters, REPEAT_WINDOW_DAYS, _as_utc, _ticket_conditions, _tickets_from
from app.services.analytics.rollup import _dialect, _roomy_sorts
from app.services.analytics.sql import _at, days_before, slot_of


# --- repeat faults ------------------------------------------------------------------------

def repeat_faults(rng: DateRange, filters: Filters) -> list[dict]:
    """Branch + subcategory pairs whose fault came back: tickets created in the range
    within 30 days after a ticket of the same branch and subcategory was closed with
    approved work (that earlier ticket may predate the range).

    Without sorting: time is cut into 30-day slots; a closing within the 30 days before a
    ticket lies in the ticket's slot or in the one before. The approved closings are
    summed up per branch, subcategory and slot into the earliest closing of the slot and
    the latest of the slot before; each new ticket finds its slot's row by one hash join,
    and the exact test is then on the timestamps."""
    _roomy_sorts()
    T = ServiceTicket
    start, end = _at(rng.start), _at(rng.end)
    # The earlier ticket shares branch and subcategory, hence customer and category;
    # its priority may differ.
    same_place = _ticket_conditions(Filters(filters.customer_id, filters.branch_id, filters.category_id))
    closings = (select(T.branch_id.label("branch"), T.subcategory_id.label("sub"), T.closed_at.label("at"),
                       slot_of(T.closed_at, REPEAT_WINDOW_DAYS).label("slot"))
                .select_from(_tickets_from(bool(filters.customer_id)))
                .where(T.status == TicketStatus.CLOSED, T.completed_at.is_not(None),
                       T.closed_at >= days_before(start, REPEAT_WINDOW_DAYS), T.closed_at < end, *same_place)
                .subquery("closings"))
    slots = (select(closings.c.branch, closings.c.sub, closings.c.slot,
                    func.min(closings.c.at).label("first"), func.max(closings.c.at).label("last"))
             .group_by(closings.c.branch, closings.c.sub, closings.c.slot)
             .cte("slots"))
    # One row per branch, subcategory and slot: its earliest closing, and the latest
    # closing of the slot before.
    both = union_all(
        select(slots.c.branch, slots.c.sub, slots.c.slot, slots.c.first.label("first_here"),
               cast(null(), UTCDateTime()).label("last_before")),
        select(slots.c.branch, slots.c.sub, (slots.c.slot + 1).label("slot"), cast(null(), UTCDateTime()),
               slots.c.last),
    ).subquery("both_")
    lookup = (select(both.c.branch, both.c.sub, both.c.slot, func.max(both.c.first_here).label("first_here"),
                     func.max(both.c.last_before).label("last_before"))
              .group_by(both.c.branch, both.c.sub, both.c.slot)
              .subquery("lookup"))
    window_start = days_before(T.created_at, REPEAT_WINDOW_DAYS)
    repeat = or_(and_(lookup.c.first_here <= T.created_at, lookup.c.first_here > window_start),
                 and_(lookup.c.last_before <= T.created_at, lookup.c.last_before > window_start))
    # Counted with CASE rather than filtered with WHERE: the planner then sees how many
    # rows reach the GROUP BY and hashes them instead of sorting text keys.
    repeats = func.count(case((repeat, 1)))
    agg = (
        select(T.branch_id.label("branch"), T.subcategory_id.label("sub"), repeats.label("repeats"),
               func.max(case((repeat, T.created_at))).label("last_at"))
        .select_from(_tickets_from(bool(filters.customer_id)))
        .join(lookup, and_(lookup.c.branch == T.branch_id, lookup.c.sub == T.subcategory_id,
                           lookup.c.slot == slot_of(T.created_at, REPEAT_WINDOW_DAYS)))
        .where(T.created_at >= start, T.created_at < end, *_ticket_conditions(filters))
        .group_by(T.branch_id, T.subcategory_id)
        .having(repeats > 0)
        .subquery()
    )
    br, sub = aliased(CustomerBranch), aliased(IssueSubcategory)
    stmt = (
        select(agg.c.branch, agg.c.sub, agg.c.repeats, agg.c.last_at,
               (br.branch_name + " (" + br.branch_code + ")").label("branch_label"), sub.name.label("sub_label"))
        .select_from(agg)
        .outerjoin(br, br.id == agg.c.branch)
        .outerjoin(sub, sub.id == agg.c.sub)
    )
    hash_only = _dialect() == "postgresql"
    if hash_only:
        # The planner cannot estimate a join on computed slots and would sort the
        # year's text keys for the GROUP BY; hashing them is several times cheaper.
        db.session.execute(text("SET LOCAL enable_sort = off"))
    found = db.session.execute(stmt).mappings().all()
    if hash_only:
        db.session.execute(text("SET LOCAL enable_sort = on"))
    rows = [{
        "branchId": r["branch"], "branch": r["branch_label"] or "(deleted)",
        "subcategoryId": r["sub"], "subcategory": r["sub_label"] or "(deleted)",
        "repeats": int(r["repeats"]), "lastAt": _as_utc(r["last_at"]),
    } for r in found]
    return sorted(rows, key=lambda r: (-r["repeats"], r["branch"].lower(), r["subcategory"].lower()))



