"""The words of a ticket's timeline: one plain sentence per event kind (the ticket
page, its timeline partial). Times with their zone, distances in m or km, enum values
in their words; a kind not listed here still reads as a sentence, never a raw name."""
from __future__ import annotations

from datetime import datetime

from babel.numbers import format_decimal
from flask_babel import gettext as _, lazy_gettext as _l

from app.models.enums import label
from app.services import timefmt


def distance_text(meters: float | None) -> str:
    """The one distance format: "480 m" under 1 km, "7.5 km" above (in the reader's
    language: "7,5 км")."""
    if meters is None:
        return ""
    if meters < 1000:
        return _("%(num)s m", num=format_decimal(round(meters), format="0", locale=timefmt.locale()))
    return _("%(num)s km", num=format_decimal(round(meters / 1000, 1), format="0.0", locale=timefmt.locale()))


def _when(value) -> str | None:
    if isinstance(value, datetime):
        return timefmt.zoned(value)
    if isinstance(value, str) and value:
        try:
            return timefmt.zoned(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _arrived(d: dict) -> str:
    meters = d.get("distanceMeters")
    if meters is None:
        return _("Arrived on site (location not available).")
    if d.get("farFromBranch"):
        return _("Arrived on site, %(distance)s from the branch (further than expected).",
                 distance=distance_text(meters))
    return _("Arrived on site, %(distance)s from the branch.", distance=distance_text(meters))


def _photo(d: dict, added: bool) -> str:
    kind = d.get("type")
    if kind:
        words = label(kind).lower()
        return (_("A photo (%(kind)s) was added.", kind=words) if added
                else _("A photo (%(kind)s) was removed.", kind=words))
    return _("A photo was added.") if added else _("A photo was removed.")


def _created(d: dict) -> str:
    if d.get("priority"):
        return _("Ticket created with priority %(priority)s.", priority=label(d["priority"]))
    return _("Ticket created.")


def _assigned(d: dict) -> str:
    name = d.get("technicianName")
    if not name:
        return _("Assigned to a technician (automatically).") if d.get("automatic") else _("Assigned to a technician.")
    if d.get("automatic"):
        return _("Assigned to %(name)s (automatically).", name=name)
    return _("Assigned to %(name)s.", name=name)


def _reassigned(d: dict) -> str:
    name = d.get("technicianName")
    return _("Reassigned to %(name)s.", name=name) if name else _("Reassigned to another technician.")


def _internal_note(d: dict) -> str:
    return _("Internal note: %(text)s", text=d["text"]) if d.get("text") else _("Internal notes cleared.")


def _store_note(d: dict) -> str:
    return _("Store note: %(text)s", text=d["text"]) if d.get("text") else _("Store note cleared.")


def _closed(d: dict) -> str:
    if d.get("reason"):
        return _("Closed without completion: %(reason)s", reason=d["reason"])
    return _("Closed without completion.")


def _completed(d: dict) -> str:
    if d.get("totalCost"):
        return _("Work completed, total %(total)s.", total=timefmt.money(d["totalCost"]))
    return _("Work completed.")


def _approved(d: dict) -> str:
    return _("Approved, signed by %(name)s.", name=d["signedBy"]) if d.get("signedBy") else _("Approved.")


def _escalated(d: dict) -> str:
    name = d.get("technicianName")
    return (_("Escalated to %(name)s, the backup technician.", name=name) if name
            else _("Escalated to the backup technician."))


def _no_secondary(d: dict) -> str:
    return _("Response deadline at risk, and there is no backup technician to escalate to: "
             "the dispatcher was told.")


def _level2(d: dict) -> str:
    return _("Still no response: escalated to the dispatchers.")


def _response_warning(d: dict) -> str:
    due = _when(d.get("responseDueAt"))
    return _("Response deadline is close (due %(when)s).", when=due) if due else _("Response deadline is close.")


def _response_overdue(d: dict) -> str:
    due = _when(d.get("responseDueAt"))
    return (_("Response deadline missed (was due %(when)s).", when=due) if due
            else _("Response deadline missed."))


def _resolution_overdue(d: dict) -> str:
    due = _when(d.get("resolutionDueAt"))
    return _("Fix deadline missed (was due %(when)s).", when=due) if due else _("Fix deadline missed.")


_STANDING = {"ON_LEAVE": _l("on leave"), "INACTIVE": _l("inactive")}


def _standing(who: dict) -> str:
    return str(_STANDING.get(who.get("status"), _l("cannot take it")))


def _not_assigned(d: dict) -> str:
    why = d.get("why")
    if isinstance(why, dict):  # who holds each role of the branch, and how they stand
        primary, secondary = why.get("primary"), why.get("secondary")
        if primary and secondary:
            return _("Not assigned: %(primary)s (primary): %(p_state)s; %(secondary)s (secondary): %(s_state)s.",
                     primary=primary.get("name"), p_state=_standing(primary),
                     secondary=secondary.get("name"), s_state=_standing(secondary))
        if primary:
            return _("Not assigned: %(primary)s (primary): %(p_state)s; the branch has no other active technician.",
                     primary=primary.get("name"), p_state=_standing(primary))
        if secondary:
            return _("Not assigned: the branch has no primary technician; %(secondary)s (secondary): %(s_state)s.",
                     secondary=secondary.get("name"), s_state=_standing(secondary))
        return _("Not assigned: the branch has no technician (no primary, no secondary).")
    # Events recorded before: the dispatch service's words, kept as stored.
    if d.get("reason"):
        return _("Not assigned: %(reason)s.", reason=d["reason"])
    return _("Not assigned: no active technician covers this branch.")


def _equipment_changed(d: dict) -> str:
    from flask_babel import gettext as _

    unit = " · ".join(x for x in (d.get("assetTag"), d.get("equipmentName")) if x)
    before = " · ".join(x for x in (d.get("previousAssetTag"), d.get("previousEquipmentName")) if x)
    if unit and before:
        return _("Unit changed from %(before)s to %(unit)s.", before=before, unit=unit)
    if unit:
        return _("Unit set to %(unit)s.", unit=unit)
    if before:
        return _("Unit %(before)s removed from the ticket.", before=before)
    return _("Unit removed from the ticket.")


def _qr_report(d: dict) -> str:
    """Another report by the unit's QR code, added to its open ticket (services/qr_reports.py)."""
    from flask_babel import gettext as _

    name, phone, text = d.get("reporterName") or "", d.get("reporterPhone") or "", d.get("description") or ""
    if d.get("urgent"):
        return _("Reported again by QR code, marked urgent, by %(name)s (%(phone)s): “%(text)s”",
                 name=name, phone=phone, text=text)
    return _("Reported again by QR code by %(name)s (%(phone)s): “%(text)s”", name=name, phone=phone, text=text)


def _priority_changed(d: dict) -> str:
    if d.get("reason") == "urgent_qr_report":  # tickets.raise_priority_for_urgent_report
        return _("Priority raised to %(new)s by an urgent QR report.", new=label(d.get("to")))
    return _("Priority changed from %(old)s to %(new)s.", old=label(d.get("from")), new=label(d.get("to")))


def _paused(d: dict) -> str:
    """"Paused: Waiting for parts — the supplier delivers on Monday"."""
    reason = label(d.get("reason")) if d.get("reason") else _("no reason given")
    if d.get("note"):
        return _("Paused: %(reason)s — %(note)s", reason=reason, note=d["note"])
    return _("Paused: %(reason)s", reason=reason)


def _resumed(d: dict) -> str:
    """"Resumed after 3 h 20 min (working time)"."""
    minutes = d.get("minutes")
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool):
        return _("Resumed.")
    return _("Resumed after %(time)s (working time)", time=timefmt.span(minutes * 60))


def _pause_long(d: dict) -> str:
    since = _when(d.get("pausedAt"))
    return (_("Paused for too long (since %(when)s): the dispatchers were told.", when=since) if since
            else _("Paused for too long: the dispatchers were told."))


TEXTS = {
    "created": _created,
    "assigned": _assigned,
    "reassigned": _reassigned,
    "accepted": lambda d: _("Accepted by the technician."),
    "declined": lambda d: _("Declined by the technician: “%(reason)s”", reason=d.get("reason", "")),
    "arrived": _arrived,
    "photo_added": lambda d: _photo(d, True),
    "photo_removed": lambda d: _photo(d, False),
    "priority_changed": _priority_changed,
    "internal_note": _internal_note,
    "store_note": _store_note,
    "closed": _closed,
    "completed": _completed,
    "approved": _approved,
    "rejected": lambda d: _("Sent back by the store: “%(reason)s”", reason=d.get("reason", "")),
    "not_assigned": _not_assigned,
    "escalated": _escalated,
    "escalation_no_secondary": _no_secondary,
    "escalation_level2": _level2,
    "sla_response_warning": _response_warning,
    "sla_response_overdue": _response_overdue,
    "sla_resolution_overdue": _resolution_overdue,
    "equipment_changed": _equipment_changed,
    "qr_report": _qr_report,
    "paused": _paused,
    "resumed": _resumed,
    "sla_pause_long": _pause_long,
}


def event_text(kind: str, data: dict | None, resolution_due_at: datetime | None = None) -> str:
    """The sentence for one event. `resolution_due_at` (the ticket's) dates a missed fix
    deadline when the event itself did not record it."""
    d = dict(data or {})
    if kind == "sla_resolution_overdue" and not d.get("resolutionDueAt") and resolution_due_at is not None:
        d["resolutionDueAt"] = resolution_due_at
    text = TEXTS.get(kind)
    if text is not None:
        return text(d)
    return _("Something changed on this ticket.")
