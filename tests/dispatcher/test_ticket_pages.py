"""Creating a ticket, and the ticket page with its dispatcher actions."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import ServiceTicket, TechnicianStatus, TicketPriority, TicketStatus
from app import clock
from app.services import reference, tickets
from tests.dispatcher.conftest import page_queries
from tests.dispatcher.helpers import accepted, approved, completed
from tests.factories import make_technician, make_ticket


def test_subcategory_choices_follow_the_category(world, as_dispatcher):
    other = reference.create_category(world.dispatcher, {"name": "Electrical"})
    reference.create_subcategory(world.dispatcher, other.id, {"name": "Lighting"})
    db.session.commit()
    resp = as_dispatcher.get(f"/tickets/create/subcategories?categoryId={other.id}", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "Lighting" in html and "Cold Chambers" not in html
    assert resp.headers["HX-Trigger-After-Swap"] == "subcategoriesChanged"
    html = as_dispatcher.get(f"/tickets/create/subcategories?categoryId={world.category.id}").get_data(as_text=True)
    assert "Cold Chambers" in html and "Lighting" not in html


def test_due_times_are_shown_before_saving(world, as_dispatcher, freeze):
    freeze("2026-11-24T08:00:00Z")
    html = as_dispatcher.get(f"/tickets/create/preview?subcategoryId={world.subcategory.id}&priority=CRITICAL") \
        .get_data(as_text=True)
    assert "24 Nov 09:00 UTC" in html and "24 Nov 12:00 UTC" in html  # 60 and 240 minutes
    assert "Choose a subcategory" in as_dispatcher.get("/tickets/create/preview?priority=HIGH").get_data(as_text=True)


def test_create_page_offers_active_branches_and_wires_the_htmx_calls(world, as_dispatcher):
    world.branch2.is_active = False
    db.session.commit()
    html = as_dispatcher.get("/tickets/create").get_data(as_text=True)
    assert "Freshmart Central" in html and "Freshmart North" not in html
    assert 'hx-get="/tickets/create/subcategories"' in html
    assert 'hx-get="/tickets/create/preview"' in html


def test_a_dispatcher_creates_a_ticket_and_lands_on_its_page(world, as_dispatcher):
    resp = as_dispatcher.post("/tickets/create", data={
        "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": world.subcategory.id,
        "priority": "HIGH", "description": "Display fridge at 9°C", "externalId": "CRM-77"})
    assert resp.status_code == 302
    ticket = db.session.query(ServiceTicket).one()
    assert resp.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert ticket.priority == TicketPriority.HIGH and ticket.external_id == "CRM-77"
    assert ticket.status == TicketStatus.ASSIGNED
    page = as_dispatcher.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Ticket {ticket.ticket_number} created and assigned to Timur Primary." in page


def test_create_errors_sit_next_to_the_fields_and_keep_what_was_typed(world, as_dispatcher):
    resp = as_dispatcher.post("/tickets/create", data={
        "branchId": world.branch.id, "categoryId": world.category.id, "subcategoryId": "",
        "priority": "LOW", "description": "", "externalId": "CRM-1234", "contactName": "Aziza at the till"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert re.search(r'id="subcategoryId-error">This field is required.', html)
    assert re.search(r'id="description-error">This field is required.', html)
    assert 'value="CRM-1234"' in html and 'value="Aziza at the till"' in html
    assert re.search(r'<option selected value="LOW">|<option value="LOW" selected', html)
    assert db.session.query(ServiceTicket).count() == 0


def test_a_subcategory_of_another_category_is_refused_by_the_service_next_to_the_field(world, as_dispatcher):
    other = reference.create_category(world.dispatcher, {"name": "Electrical"})
    db.session.commit()
    resp = as_dispatcher.post("/tickets/create", data={
        "branchId": world.branch.id, "categoryId": other.id, "subcategoryId": world.subcategory.id,
        "priority": "NORMAL", "description": "Warm fridge"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="subcategoryId-error">Choose a subcategory of the selected category.' in html
    assert "Warm fridge" in html


def test_ticket_page_shows_fields_timeline_and_staff_controls(world, as_dispatcher):
    ticket = accepted(world)
    tickets.update_notes(ticket, world.dispatcher, internal="Call before going: alarm code 4411")
    db.session.commit()
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    for text in (ticket.ticket_number, "Cold chamber at 12°C", "FM-001 · Freshmart Central", "Freshmart",
                 "Dilnoza K.", "Cooling Equipment Problems › Cold Chambers", "Timur Primary",
                 "Ticket created", "Assigned to Timur Primary (automatically)", "Accepted by the technician",
                 "Internal note: Call before going", "alarm code 4411"):
        assert text in html, text
    for control in ("/assign", "/priority", "/notes", "/close"):
        assert f'action="/tickets/{ticket.id}{control}"' in html
    assert 'data-confirm="Close ' in html


def test_the_assigned_technician_reads_the_page_without_staff_controls(world, signed_in):
    ticket = accepted(world)
    html = signed_in(world.tech).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.ticket_number in html
    assert "/close" not in html and "/assign" not in html and "Dispatcher actions" not in html


def test_store_manager_reads_the_page_without_internal_notes_and_others_get_404(world, signed_in):
    ticket = make_ticket(world)
    tickets.update_notes(ticket, world.dispatcher, internal="Customer owes us money")
    db.session.commit()
    html = signed_in(world.manager).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.ticket_number in html and "owes us money" not in html and "/close" not in html
    assert signed_in(world.other_manager).get(f"/tickets/{ticket.id}").status_code == 404
    assert signed_in(world.outsider_tech).get(f"/tickets/{ticket.id}").status_code == 404


def test_staff_actions_are_forbidden_to_technicians_and_store_managers(world, signed_in):
    ticket = make_ticket(world)
    db.session.commit()
    for user in (world.tech, world.manager):
        client = signed_in(user)
        for action, data in (("assign", {"assignedTechnicianId": world.secondary.id}),
                             ("priority", {"priority": "LOW"}), ("notes", {"internalNotes": "x"}),
                             ("close", {"reason": "x"})):
            assert client.post(f"/tickets/{ticket.id}/{action}", data=data).status_code == 403, (user.email, action)
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ASSIGNED and ticket.priority == TicketPriority.NORMAL


def test_reassign_lists_active_technicians_branch_own_first_with_distance_and_report_age(world, as_dispatcher, freeze):
    start = freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)
    world.outsider.latitude, world.outsider.longitude = 41.3111, 69.2897  # ~830 m east of the branch
    world.outsider.last_location_update = start
    make_technician("Ivan OnLeave", "+998900000009", TechnicianStatus.ON_LEAVE)
    db.session.commit()
    clock.set_now(start.replace(minute=12))
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assigned = html.split('id="reassign"', 1)[1].split("</form>", 1)[0]
    names = re.findall(r'<span class="who-line">([^<]+)<', assigned)
    assert names == ["Timur Primary", "Sardor Secondary", "Olim Outsider"]
    assert "Ivan OnLeave" not in assigned
    outsider = assigned.split("Olim Outsider", 1)[1]
    assert "835 m away · reported 12m ago" in outsider.split("</label>", 1)[0]
    assert "location unknown" in assigned.split("Sardor Secondary", 1)[1].split("</label>", 1)[0]


def test_reassigning_hands_the_ticket_to_the_chosen_technician(world, as_dispatcher):
    ticket = accepted(world)
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/assign",
                              data={"assignedTechnicianId": world.secondary.id, "version": ticket.version})
    assert resp.status_code == 302
    db.session.refresh(ticket)
    assert (ticket.assigned_technician_id, ticket.status) == (world.secondary.id, TicketStatus.ASSIGNED)
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Reassigned to Sardor Secondary" in html
    assert "Technician assigned; waiting for them to accept." in html


def test_reassign_without_a_choice_says_so_next_to_the_list(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/assign", data={"version": ticket.version})
    assert resp.status_code == 400
    assert '<div class="field-error">This field is required.</div>' in resp.get_data(as_text=True)


def test_changing_priority_moves_both_due_times(world, as_dispatcher, freeze):
    freeze("2026-11-24T08:00:00Z")
    ticket = make_ticket(world)
    db.session.commit()
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/priority",
                              data={"priority": "CRITICAL", "version": ticket.version})
    assert resp.status_code == 302
    db.session.refresh(ticket)
    assert ticket.priority == TicketPriority.CRITICAL
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Technician must respond by</dt><dd>24 Nov 09:00 UTC" in html
    assert "Must be fixed by</dt><dd>24 Nov 12:00 UTC" in html
    assert "Priority changed from Normal to Critical" in html


def test_internal_notes_are_saved_and_shown_to_staff(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    as_dispatcher.post(f"/tickets/{ticket.id}/notes", data={"internalNotes": "Key at the security desk",
                                                             "version": ticket.version})
    db.session.refresh(ticket)
    assert ticket.internal_notes == "Key at the security desk"
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Internal note: Key at the security desk" in html


def test_closing_needs_a_reason_and_then_closes_with_it_in_the_timeline(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/close", data={"reason": "  ", "version": ticket.version})
    assert resp.status_code == 400
    assert 'id="reason-error">Say why it is closed.' in resp.get_data(as_text=True)
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/close", data={"reason": "Duplicate of another ticket",
                                                                    "version": ticket.version})
    assert resp.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "Duplicate of another ticket"
    html = as_dispatcher.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Closed without completion: Duplicate of another ticket" in html
    assert f'action="/tickets/{ticket.id}/close"' not in html


def test_a_stale_page_is_told_the_ticket_changed_and_keeps_the_typed_reason(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    seen = ticket.version
    tickets.change_priority(ticket, TicketPriority.HIGH, world.dispatcher2)
    db.session.commit()
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/close", data={"reason": "Store fixed it", "version": seen})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "changed by someone else" in html and "Store fixed it" in html
    assert f'name="version" type="hidden" value="{ticket.version}"' in html
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ASSIGNED


def test_approve_link_only_for_who_may_decide_a_completed_ticket_and_report_link_once_closed(world, signed_in):
    ticket, _ = completed(world)
    def page_for(user, t):
        return signed_in(user).get(f"/tickets/{t.id}").get_data(as_text=True)

    approve = f'href="/tickets/{ticket.id}/approve"'
    assert approve not in page_for(world.dispatcher, ticket)  # dispatchers do not sign for the store
    assert approve in page_for(world.manager, ticket)
    assert approve in page_for(world.admin, ticket)
    closed, c = approved(world)
    html = signed_in(world.dispatcher).get(f"/tickets/{closed.id}").get_data(as_text=True)
    assert f'href="/tickets/{closed.id}/report"' in html and "/approve" not in html
    assert f'src="/signatures/{c.id}"' in html and "Signed by <strong>Dilnoza K.</strong>" in html
    assert "Replaced the door seal" in html and "57.50" in html  # 12.50 part + 45.00 labour
    assert "/photos/" in html and "?size=thumb" in html


def test_ticket_page_queries_do_not_grow_with_the_timeline(world, as_dispatcher, queries):
    ticket = make_ticket(world)
    db.session.commit()
    with queries() as few:
        as_dispatcher.get(f"/tickets/{ticket.id}")
    for i in range(15):
        tickets.update_notes(ticket, world.dispatcher, internal=f"note {i}")
    db.session.commit()
    with queries() as many:
        as_dispatcher.get(f"/tickets/{ticket.id}")
    assert len(page_queries(many)) == len(page_queries(few))


def test_a_tampered_version_says_reload_instead_of_failing_silently(world, as_dispatcher):
    ticket = make_ticket(world)
    db.session.commit()
    resp = as_dispatcher.post(f"/tickets/{ticket.id}/close", data={"reason": "Duplicate", "version": "abc"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "This page is out of date; please reload it and try again." in html and "Duplicate" in html
    db.session.refresh(ticket)
    assert ticket.status == TicketStatus.ASSIGNED
