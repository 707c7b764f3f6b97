"""Who may open which page, and do what through it: every page route (GET and the
state-changing POST/DELETE) against every actor, on their own object and on someone
else's. Expected answers are in ONE table below.

Actors: anon (signed out), admin, dispatcher, tech (the tickets' technician),
tech_other (a technician of another customer's branch), mgr (store manager of the
tickets' branch), mgr_other (store manager of another customer's branch).

Signed out -> 302 to /login; a role that may not use the page -> 403; a ticket, photo,
signature or report the actor may not read -> 404 (as if it did not exist).
"""
import io

import pytest

from app.models import TechnicianBranchAssignment
from app.extensions import db
from tests.factories import PASSWORD, jpeg_bytes, signature_data_url
from tests.security.conftest import ACTORS, build_scene, own_notification

P = "/tickets"


def _assignment(w):
    return db.session.query(TechnicianBranchAssignment).filter_by(technician_id=w.outsider.id).first()


def _note(w, actor):
    """One of the actor's own in-app notifications (the admin hears of nothing in the
    scene, so for the admin this is the dispatcher's: 404, like any other's)."""
    user = getattr(w, ACTORS[actor]) if ACTORS[actor] else w.dispatcher
    return (own_notification(user) or own_notification(w.dispatcher)).id


QR_REPORT = {"description": "Warm inside", "name": "Aziz", "phone": "+998907654321"}


# name -> (METHOD, rule, request(world, scene, client, actor))
PAGES = {
    "home": ("GET", "/", lambda w, s, c, a: c.get("/")),
    "photo": ("GET", "/photos/<photo_id>", lambda w, s, c, a: c.get(f"/photos/{s.photo.id}")),
    "photo thumb": ("GET", "/photos/<photo_id>", lambda w, s, c, a: c.get(f"/photos/{s.photo.id}?size=thumb")),
    "other branch photo": ("GET", "/photos/<photo_id>", lambda w, s, c, a: c.get(f"/photos/{s.other_photo.id}")),
    "signature": ("GET", "/signatures/<completion_id>",
                  lambda w, s, c, a: c.get(f"/signatures/{s.done_completion.id}")),
    # account
    "bell": ("GET", "/notifications/bell", lambda w, s, c, a: c.get("/notifications/bell")),
    "notifications": ("GET", "/notifications", lambda w, s, c, a: c.get("/notifications")),
    "mark read": ("POST", "/notifications/<notification_id>/read",
                  lambda w, s, c, a: c.post(f"/notifications/{_note(w, a)}/read")),
    "mark another's read": ("POST", "/notifications/<notification_id>/read",
                            lambda w, s, c, a: c.post(f"/notifications/{own_notification(w.manager).id}/read")),
    "open notification": ("POST", "/notifications/<notification_id>/open",
                          lambda w, s, c, a: c.post(f"/notifications/{_note(w, a)}/open")),
    "read all": ("POST", "/notifications/read-all", lambda w, s, c, a: c.post("/notifications/read-all")),
    # Only one's own items about the ticket: harmless for any ticket id.
    "mark a ticket's items read": ("POST", "/notifications/tickets/<ticket_id>/read",
                                   lambda w, s, c, a: c.post(f"/notifications/tickets/{s.done_completion.ticket_id}/read")),
    "retry failed delivery": ("POST", "/notifications/failed/<notification_id>/retry",
                              lambda w, s, c, a: c.post(f"/notifications/failed/{s.failed.id}/retry")),
    "profile": ("GET", "/profile", lambda w, s, c, a: c.get("/profile")),
    "save profile": ("POST", "/profile", lambda w, s, c, a: c.post("/profile", data={"phone": "+998901110000"})),
    "telegram card": ("GET", "/profile/telegram", lambda w, s, c, a: c.get("/profile/telegram")),
    "telegram link": ("POST", "/profile/telegram/link", lambda w, s, c, a: c.post("/profile/telegram/link")),
    "telegram unlink": ("POST", "/profile/telegram/unlink", lambda w, s, c, a: c.post("/profile/telegram/unlink")),
    "save language": ("POST", "/profile/language", lambda w, s, c, a: c.post("/profile/language", data={"locale": "ru"})),
    "language switch": ("GET", "/language/<code>", lambda w, s, c, a: c.get("/language/uz?next=/login")),
    "password form address": ("GET", "/profile/password", lambda w, s, c, a: c.get("/profile/password")),
    "change password": ("POST", "/profile/password", lambda w, s, c, a: c.post("/profile/password", data={
        "current_password": PASSWORD, "new_password": "a-brand-new-one-7", "repeat_password": "a-brand-new-one-7"})),
    # dispatcher
    "board": ("GET", "/dispatcher/tickets", lambda w, s, c, a: c.get("/dispatcher/tickets")),
    "board poll": ("GET", "/dispatcher/tickets/poll", lambda w, s, c, a: c.get("/dispatcher/tickets/poll")),
    "board list": ("GET", "/dispatcher/tickets/list", lambda w, s, c, a: c.get("/dispatcher/tickets/list")),
    "create ticket form": ("GET", "/tickets/create", lambda w, s, c, a: c.get("/tickets/create")),
    "create ticket": ("POST", "/tickets/create", lambda w, s, c, a: c.post("/tickets/create", data={
        "branchId": w.branch.id, "categoryId": w.category.id, "subcategoryId": w.subcategory.id,
        "priority": "NORMAL", "description": "Warm"})),
    "create: units": ("GET", "/tickets/create/units",
                      lambda w, s, c, a: c.get(f"/tickets/create/units?branchId={w.branch.id}")),
    "create: subcategories": ("GET", "/tickets/create/subcategories",
                              lambda w, s, c, a: c.get(f"/tickets/create/subcategories?categoryId={w.category.id}")),
    "create: preview": ("GET", "/tickets/create/preview", lambda w, s, c, a: c.get(
        f"/tickets/create/preview?subcategoryId={w.subcategory.id}&priority=HIGH")),
    "ticket detail": ("GET", "/tickets/<ticket_id>", lambda w, s, c, a: c.get(f"{P}/{s.assigned.id}")),
    "other branch ticket detail": ("GET", "/tickets/<ticket_id>", lambda w, s, c, a: c.get(f"{P}/{s.other.id}")),
    "ticket timeline": ("GET", "/tickets/<ticket_id>/timeline",
                        lambda w, s, c, a: c.get(f"{P}/{s.assigned.id}/timeline")),
    "assign": ("POST", "/tickets/<ticket_id>/assign", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/assign", data={"assignedTechnicianId": w.secondary.id, "version": s.assigned.version})),
    "priority": ("POST", "/tickets/<ticket_id>/priority", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/priority", data={"priority": "HIGH", "version": s.assigned.version})),
    "notes": ("POST", "/tickets/<ticket_id>/notes", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/notes", data={"internalNotes": "x", "version": s.assigned.version})),
    "close": ("POST", "/tickets/<ticket_id>/close", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/close", data={"reason": "Duplicate", "version": s.assigned.version})),
    "technicians": ("GET", "/dispatcher/technicians", lambda w, s, c, a: c.get("/dispatcher/technicians")),
    "technician form": ("GET", "/dispatcher/technicians/new", lambda w, s, c, a: c.get("/dispatcher/technicians/new")),
    "create technician": ("POST", "/dispatcher/technicians/new", lambda w, s, c, a: c.post(
        "/dispatcher/technicians/new", data={"name": "New", "phone": "+998900000099", "status": "ACTIVE"})),
    "technician page": ("GET", "/dispatcher/technicians/<technician_id>",
                        lambda w, s, c, a: c.get(f"/dispatcher/technicians/{w.primary.id}")),
    "edit technician": ("POST", "/dispatcher/technicians/<technician_id>", lambda w, s, c, a: c.post(
        f"/dispatcher/technicians/{w.primary.id}", data={"name": "Renamed", "phone": "+998900000001",
                                                         "status": "ACTIVE"})),
    "assign territory": ("POST", "/dispatcher/technicians/<technician_id>/territories", lambda w, s, c, a: c.post(
        f"/dispatcher/technicians/{w.outsider.id}/territories", data={"branchId": w.branch2.id, "role": "secondary"})),
    "end territory": ("POST", "/dispatcher/technicians/<technician_id>/territories/<assignment_id>/end",
                      lambda w, s, c, a: c.post(
                          f"/dispatcher/technicians/{w.outsider.id}/territories/{_assignment(w).id}/end")),
    "branches": ("GET", "/dispatcher/branches", lambda w, s, c, a: c.get("/dispatcher/branches")),
    "create customer": ("POST", "/dispatcher/customers",
                        lambda w, s, c, a: c.post("/dispatcher/customers", data={"name": "Korzinka"})),
    "branch form": ("GET", "/dispatcher/branches/new", lambda w, s, c, a: c.get("/dispatcher/branches/new")),
    "create branch": ("POST", "/dispatcher/branches/new", lambda w, s, c, a: c.post("/dispatcher/branches/new", data={
        "customerId": w.customer.id, "branchCode": "FM-777", "branchName": "New", "isActive": "y"})),
    "branch page": ("GET", "/dispatcher/branches/<branch_id>",
                    lambda w, s, c, a: c.get(f"/dispatcher/branches/{w.branch.id}")),
    "edit branch": ("POST", "/dispatcher/branches/<branch_id>", lambda w, s, c, a: c.post(
        f"/dispatcher/branches/{w.branch2.id}", data={"customerId": w.customer.id, "branchCode": "FM-002",
                                                      "branchName": "Renamed", "isActive": "y"})),
    "categories": ("GET", "/dispatcher/categories", lambda w, s, c, a: c.get("/dispatcher/categories")),
    "create category": ("POST", "/dispatcher/categories",
                        lambda w, s, c, a: c.post("/dispatcher/categories", data={"name": "Electrical"})),
    "subcategory form": ("GET", "/dispatcher/categories/<category_id>/subcategories/new",
                         lambda w, s, c, a: c.get(f"/dispatcher/categories/{w.category.id}/subcategories/new")),
    "create subcategory": ("POST", "/dispatcher/categories/<category_id>/subcategories/new", lambda w, s, c, a: c.post(
        f"/dispatcher/categories/{w.category.id}/subcategories/new", data={"name": "Ice"})),
    "subcategory page": ("GET", "/dispatcher/subcategories/<subcategory_id>",
                         lambda w, s, c, a: c.get(f"/dispatcher/subcategories/{w.subcategory.id}")),
    "edit subcategory": ("POST", "/dispatcher/subcategories/<subcategory_id>", lambda w, s, c, a: c.post(
        f"/dispatcher/subcategories/{w.subcategory.id}", data={"name": "Cold Chambers"})),
    # working calendars
    "calendars": ("GET", "/dispatcher/calendars", lambda w, s, c, a: c.get("/dispatcher/calendars")),
    "calendar form": ("GET", "/dispatcher/calendars/new", lambda w, s, c, a: c.get("/dispatcher/calendars/new")),
    "create calendar": ("POST", "/dispatcher/calendars/new", lambda w, s, c, a: c.post(
        "/dispatcher/calendars/new", data={"name": "Night desk", "timezone": "Asia/Tashkent", "country": "",
                                           "mon-0-start": "08:00", "mon-0-end": "17:00", "action": "save"})),
    "calendar page": ("GET", "/dispatcher/calendars/<calendar_id>",
                      lambda w, s, c, a: c.get(f"/dispatcher/calendars/{s.calendar.id}")),
    "edit calendar": ("POST", "/dispatcher/calendars/<calendar_id>", lambda w, s, c, a: c.post(
        f"/dispatcher/calendars/{s.calendar.id}", data={"name": "Renamed week", "timezone": "Asia/Tashkent",
                                                        "country": "UZ", "version": s.calendar.version,
                                                        "mon-0-start": "09:00", "mon-0-end": "18:00",
                                                        "action": "save"})),
    "calendar branches": ("POST", "/dispatcher/calendars/<calendar_id>/branches", lambda w, s, c, a: c.post(
        f"/dispatcher/calendars/{s.calendar.id}/branches", data={"branchId": w.branch2.id})),
    "calendar: country holidays": ("GET", "/dispatcher/calendars/country-holidays",
                                   lambda w, s, c, a: c.get("/dispatcher/calendars/country-holidays?country=UZ")),
    # analytics
    "analytics": ("GET", "/dispatcher/analytics", lambda w, s, c, a: c.get("/dispatcher/analytics")),
    "analytics csv": ("GET", "/dispatcher/analytics/<key>.csv",
                      lambda w, s, c, a: c.get("/dispatcher/analytics/technicians.csv")),
    # technician
    "tech dashboard": ("GET", "/tech/dashboard", lambda w, s, c, a: c.get("/tech/dashboard")),
    "tech ticket": ("GET", "/tech/tickets/<ticket_id>", lambda w, s, c, a: c.get(f"/tech/tickets/{s.assigned.id}")),
    "tech: other branch ticket": ("GET", "/tech/tickets/<ticket_id>",
                                  lambda w, s, c, a: c.get(f"/tech/tickets/{s.other.id}")),
    "accept": ("POST", "/tech/tickets/<ticket_id>/accept", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.assigned.id}/accept")),
    "decline": ("POST", "/tech/tickets/<ticket_id>/decline", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.assigned.id}/decline", data={"reason": "Busy"})),
    "arrive": ("POST", "/tech/tickets/<ticket_id>/arrive", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.in_progress.id}/arrive", data={})),
    "location": ("POST", "/tech/location",
                 lambda w, s, c, a: c.post("/tech/location", data={"latitude": "41.3", "longitude": "69.2"})),
    "complete form": ("GET", "/tech/tickets/<ticket_id>/complete",
                      lambda w, s, c, a: c.get(f"/tech/tickets/{s.in_progress.id}/complete")),
    "complete": ("POST", "/tech/tickets/<ticket_id>/complete", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.in_progress.id}/complete", data={"workDescription": "Done", "laborHours": "1"})),
    "totals": ("POST", "/tech/tickets/<ticket_id>/totals", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.in_progress.id}/totals", data={"laborHours": "1"})),
    "part row": ("GET", "/tech/tickets/<ticket_id>/parts/new",
                 lambda w, s, c, a: c.get(f"/tech/tickets/{s.in_progress.id}/parts/new")),
    "upload photo": ("POST", "/tech/tickets/<ticket_id>/photos", lambda w, s, c, a: c.post(
        f"/tech/tickets/{s.in_progress.id}/photos", content_type="multipart/form-data",
        data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "type": "after"})),
    "delete photo": ("DELETE", "/tech/tickets/<ticket_id>/photos/<photo_id>", lambda w, s, c, a: c.delete(
        f"/tech/tickets/{s.in_progress.id}/photos/{s.photo.id}")),
    # store manager
    "store home": ("GET", "/store", lambda w, s, c, a: c.get("/store")),
    "store new ticket form": ("GET", "/store/tickets/new", lambda w, s, c, a: c.get("/store/tickets/new")),
    "store new ticket": ("POST", "/store/tickets/new", lambda w, s, c, a: c.post("/store/tickets/new", data={
        "branchId": w.branch.id, "categoryId": w.category.id, "subcategoryId": w.subcategory.id,
        "priority": "NORMAL", "description": "Warm"})),
    "store: subcategories": ("GET", "/store/tickets/new/subcategories",
                             lambda w, s, c, a: c.get(f"/store/tickets/new/subcategories?categoryId={w.category.id}")),
    "store ticket": ("GET", "/store/tickets/<ticket_id>", lambda w, s, c, a: c.get(f"/store/tickets/{s.waiting.id}")),
    "approve form": ("GET", "/tickets/<ticket_id>/approve", lambda w, s, c, a: c.get(f"{P}/{s.waiting.id}/approve")),
    "approve": ("POST", "/tickets/<ticket_id>/approve", lambda w, s, c, a: c.post(
        f"{P}/{s.waiting.id}/approve", data={"action": "approve", "signedBy": "D", "signature": signature_data_url()})),
    "reject": ("POST", "/tickets/<ticket_id>/approve", lambda w, s, c, a: c.post(
        f"{P}/{s.waiting.id}/approve", data={"action": "reject", "reason": "Still warm"})),
    "store note": ("POST", "/tickets/<ticket_id>/store-note", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/store-note", data={"note": "The alarm went off again"})),
    "pause": ("POST", "/tickets/<ticket_id>/pause", lambda w, s, c, a: c.post(
        f"{P}/{s.in_progress.id}/pause", data={"reason": "WAITING_PARTS"})),
    "resume": ("POST", "/tickets/<ticket_id>/resume", lambda w, s, c, a: c.post(
        f"{P}/{s.paused.id}/resume", data={})),
    # The address a refused pause leaves in the browser: reloading it goes back to the ticket
    # page, which applies its own rule (these answer no data of their own).
    "pause address": ("GET", "/tickets/<ticket_id>/pause", lambda w, s, c, a: c.get(f"{P}/{s.in_progress.id}/pause")),
    "resume address": ("GET", "/tickets/<ticket_id>/resume", lambda w, s, c, a: c.get(f"{P}/{s.paused.id}/resume")),
    "store photo": ("POST", "/tickets/<ticket_id>/store-photo", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/store-photo", content_type="multipart/form-data",
        data={"photo": (io.BytesIO(jpeg_bytes()), "p.jpg")})),
    "report": ("GET", "/tickets/<ticket_id>/report", lambda w, s, c, a: c.get(f"{P}/{s.done.id}/report")),
    "report pdf": ("GET", "/tickets/<ticket_id>/report.pdf", lambda w, s, c, a: c.get(f"{P}/{s.done.id}/report.pdf")),
    "branch units": ("GET", "/dispatcher/branches/<branch_id>/equipment",
                     lambda w, s, c, a: c.get(f"/dispatcher/branches/{w.branch.id}/equipment")),
    "new unit form": ("GET", "/dispatcher/branches/<branch_id>/equipment/new",
                      lambda w, s, c, a: c.get(f"/dispatcher/branches/{w.branch.id}/equipment/new")),
    "create unit": ("POST", "/dispatcher/branches/<branch_id>/equipment/new", lambda w, s, c, a: c.post(
        f"/dispatcher/branches/{w.branch.id}/equipment/new",
        data={"assetTag": f"NEW-{a}", "kind": "COLD_ROOM", "name": "Cold room 2", "isActive": "y"})),
    "unit edit form": ("GET", "/equipment/<unit_id>/edit", lambda w, s, c, a: c.get(f"/equipment/{s.qr_unit.id}/edit")),
    "edit unit": ("POST", "/equipment/<unit_id>/edit", lambda w, s, c, a: c.post(
        f"/equipment/{s.qr_unit.id}/edit", data={"assetTag": "QR-001", "kind": "COLD_ROOM", "name": "Cold room 1b",
                                              "branchId": w.branch.id, "isActive": "y"})),
    "new report token": ("POST", "/equipment/<unit_id>/report-token",
                         lambda w, s, c, a: c.post(f"/equipment/{s.qr_unit.id}/report-token")),
    "labels": ("GET", "/dispatcher/branches/<branch_id>/labels",
               lambda w, s, c, a: c.get(f"/dispatcher/branches/{w.branch.id}/labels")),
    "unit page": ("GET", "/equipment/<unit_id>", lambda w, s, c, a: c.get(f"/equipment/{s.qr_unit.id}")),
    "store units": ("GET", "/store/equipment", lambda w, s, c, a: c.get("/store/equipment")),
    "ticket unit": ("POST", "/tickets/<ticket_id>/equipment", lambda w, s, c, a: c.post(
        f"{P}/{s.assigned.id}/equipment", data={"equipmentId": s.qr_unit.id})),
    "unit QR code": ("GET", "/equipment/<unit_id>/qr.svg", lambda w, s, c, a: c.get(f"/equipment/{s.qr_unit.id}/qr.svg")),
    # auth
    "login page": ("GET", "/login", lambda w, s, c, a: c.get("/login")),
    "logout": ("POST", "/logout", lambda w, s, c, a: c.post("/logout")),
    # reporting by a unit's QR code: no sign-in; the branch's store manager gets the usual form
    "qr report page": ("GET", "/r/<token>", lambda w, s, c, a: c.get(s.qr_url)),
    "qr report": ("POST", "/r/<token>", lambda w, s, c, a: c.post(s.qr_url, data=QR_REPORT)),
    "sign in, wrong password": ("POST", "/login", lambda w, s, c, a: c.post(
        "/login", data={"email": w.manager.email, "password": "wrong-password"})),
}

#                                anon admin disp tech tech_other mgr mgr_other
TABLE = {
    'home':                       (302, 302, 302, 302, 302, 302, 302),
    'photo':                      (302, 200, 200, 200, 404, 200, 404),
    'photo thumb':                (302, 200, 200, 200, 404, 200, 404),
    'other branch photo':         (302, 200, 200, 404, 200, 404, 200),
    'signature':                  (302, 200, 200, 200, 404, 200, 404),
    'bell':                       (286, 200, 200, 200, 200, 200, 200),
    'notifications':              (302, 200, 200, 200, 200, 200, 200),
    'mark read':                  (302, 404, 302, 302, 302, 302, 302),
    "mark another's read":        (302, 404, 404, 404, 404, 302, 404),
    'open notification':          (302, 404, 302, 302, 302, 302, 302),
    'read all':                   (302, 302, 302, 302, 302, 302, 302),
    "mark a ticket's items read": (302, 302, 302, 302, 302, 302, 302),
    'retry failed delivery':      (302, 302, 302, 403, 403, 403, 403),
    'profile':                    (302, 200, 200, 200, 200, 200, 200),
    'save profile':               (302, 302, 302, 302, 302, 302, 302),
    'telegram card':              (302, 200, 200, 200, 200, 200, 200),
    'telegram link':              (302, 302, 302, 302, 302, 302, 302),
    'telegram unlink':            (302, 302, 302, 302, 302, 302, 302),
    'save language':              (302, 302, 302, 302, 302, 302, 302),
    'language switch':            (302, 302, 302, 302, 302, 302, 302),
    'password form address':      (302, 302, 302, 302, 302, 302, 302),
    'change password':            (302, 302, 302, 302, 302, 302, 302),
    'board':                      (302, 200, 200, 403, 403, 403, 403),
    'board poll':                 (302, 200, 200, 403, 403, 403, 403),
    'board list':                 (302, 200, 200, 403, 403, 403, 403),
    'create ticket form':         (302, 200, 200, 403, 403, 403, 403),
    'create ticket':              (302, 302, 302, 403, 403, 403, 403),
    'create: subcategories':      (302, 200, 200, 403, 403, 403, 403),
    'create: units':              (302, 200, 200, 403, 403, 403, 403),
    'create: preview':            (302, 200, 200, 403, 403, 403, 403),
    'ticket detail':              (302, 200, 200, 200, 404, 200, 404),
    'other branch ticket detail': (302, 200, 200, 404, 200, 404, 200),
    'ticket timeline':            (302, 200, 200, 200, 404, 200, 404),
    'assign':                     (302, 302, 302, 403, 403, 403, 403),
    'priority':                   (302, 302, 302, 403, 403, 403, 403),
    'notes':                      (302, 302, 302, 403, 403, 403, 403),
    'close':                      (302, 302, 302, 403, 403, 403, 403),
    'technicians':                (302, 200, 200, 403, 403, 403, 403),
    'technician form':            (302, 200, 200, 403, 403, 403, 403),
    'create technician':          (302, 302, 302, 403, 403, 403, 403),
    'technician page':            (302, 200, 200, 403, 403, 403, 403),
    'edit technician':            (302, 302, 302, 403, 403, 403, 403),
    'assign territory':           (302, 302, 302, 403, 403, 403, 403),
    'end territory':              (302, 302, 302, 403, 403, 403, 403),
    'branches':                   (302, 200, 200, 403, 403, 403, 403),
    'create customer':            (302, 302, 302, 403, 403, 403, 403),
    'branch form':                (302, 200, 200, 403, 403, 403, 403),
    'create branch':              (302, 302, 302, 403, 403, 403, 403),
    'branch page':                (302, 200, 200, 403, 403, 403, 403),
    'edit branch':                (302, 302, 302, 403, 403, 403, 403),
    'categories':                 (302, 200, 200, 403, 403, 403, 403),
    'create category':            (302, 302, 302, 403, 403, 403, 403),
    'subcategory form':           (302, 200, 200, 403, 403, 403, 403),
    'create subcategory':         (302, 302, 302, 403, 403, 403, 403),
    'subcategory page':           (302, 200, 200, 403, 403, 403, 403),
    'edit subcategory':           (302, 302, 302, 403, 403, 403, 403),
    'calendars':                  (302, 200, 200, 403, 403, 403, 403),
    'calendar form':              (302, 200, 200, 403, 403, 403, 403),
    'create calendar':            (302, 302, 302, 403, 403, 403, 403),
    'calendar page':              (302, 200, 200, 403, 403, 403, 403),
    'edit calendar':              (302, 302, 302, 403, 403, 403, 403),
    'calendar branches':          (302, 302, 302, 403, 403, 403, 403),
    'calendar: country holidays': (302, 200, 200, 403, 403, 403, 403),
    'analytics':                  (302, 200, 200, 403, 403, 403, 403),
    'analytics csv':              (302, 200, 200, 403, 403, 403, 403),
    'tech dashboard':             (302, 403, 403, 200, 200, 403, 403),
    'tech ticket':                (302, 308, 308, 308, 308, 308, 308),  # moved to /tickets/<id>
    'tech: other branch ticket':  (302, 308, 308, 308, 308, 308, 308),
    'accept':                     (302, 403, 403, 303, 404, 403, 403),
    'decline':                    (302, 403, 403, 303, 404, 403, 403),
    'arrive':                     (302, 403, 403, 303, 404, 403, 403),
    'location':                   (302, 403, 403, 204, 204, 403, 403),
    'complete form':              (302, 403, 403, 200, 404, 403, 403),
    'complete':                   (302, 403, 403, 422, 404, 403, 403),
    'totals':                     (302, 403, 403, 200, 404, 403, 403),
    'part row':                   (302, 403, 403, 200, 404, 403, 403),
    'upload photo':               (302, 403, 403, 201, 404, 403, 403),
    'delete photo':               (302, 403, 403, 200, 404, 403, 403),
    'store home':                 (302, 403, 403, 403, 403, 200, 200),
    'store new ticket form':      (302, 403, 403, 403, 403, 200, 200),
    'store new ticket':           (302, 403, 403, 403, 403, 302, 400),
    'store: subcategories':       (302, 403, 403, 403, 403, 200, 200),
    'store ticket':               (302, 308, 308, 308, 308, 308, 308),  # moved to /tickets/<id>
    'approve form':               (302, 200, 403, 403, 403, 200, 404),
    'approve':                    (302, 302, 403, 403, 403, 302, 404),
    'reject':                     (302, 302, 403, 403, 403, 302, 404),
    'store note':                 (302, 403, 403, 403, 404, 302, 404),
    'store photo':                (302, 403, 403, 403, 404, 302, 404),
    'pause':                      (302, 303, 303, 303, 404, 403, 404),
    'resume':                     (302, 303, 303, 303, 404, 403, 404),
    'pause address':              (302, 303, 303, 303, 303, 303, 303),
    'resume address':             (302, 303, 303, 303, 303, 303, 303),
    'report':                     (302, 200, 200, 403, 403, 200, 404),
    'report pdf':                 (302, 200, 200, 403, 403, 200, 404),
    'branch units':               (302, 200, 200, 403, 403, 403, 403),
    'new unit form':              (302, 200, 200, 403, 403, 403, 403),
    'create unit':                (302, 302, 302, 403, 403, 403, 403),
    'unit edit form':             (302, 200, 200, 403, 403, 403, 403),
    'edit unit':                  (302, 302, 302, 403, 403, 403, 403),
    'new report token':           (302, 302, 302, 403, 403, 403, 403),
    'labels':                     (302, 200, 200, 403, 403, 403, 403),
    'unit page':                  (302, 200, 200, 200, 404, 200, 404),
    'store units':                (302, 403, 403, 403, 403, 200, 200),
    'ticket unit':                (302, 302, 302, 403, 403, 403, 403),
    'unit QR code':               (302, 200, 200, 200, 404, 200, 404),
    'login page':                 (200, 302, 302, 302, 302, 302, 302),
    'sign in, wrong password':    (401, 401, 401, 401, 401, 401, 401),
    'logout':                     (302, 302, 302, 302, 302, 302, 302),
    'qr report page':             (200, 200, 200, 200, 200, 302, 200),
    'qr report':                  (303, 303, 303, 303, 303, 302, 303),
}


assert set(TABLE) == set(PAGES)
CASES = [(page, actor) for page in PAGES for actor in ACTORS]


# SQLite only: the page routes call the same access services (access.py,
# load_readable_ticket) that tests/api/test_access_matrix.py runs on both backends.
@pytest.mark.sqlite_only
@pytest.mark.parametrize("route_name,actor", CASES, ids=[f"{p}|{a}" for p, a in CASES])
def test_page_access_matrix(world, as_actor, backend, route_name, actor):
    scene = build_scene(world)
    r = PAGES[route_name][2](world, scene, as_actor(actor), actor)
    expected = TABLE[route_name][list(ACTORS).index(actor)]
    assert r.status_code == expected, (r.status_code, r.headers.get("Location"), r.get_data(as_text=True)[:300])
    if actor == "anon" and expected == 302:
        assert r.headers["Location"].startswith("/login"), r.headers["Location"]


#: routes that are not pages of a signed-in user (their own tests cover them)
NOT_PAGES = {"/static/<path:filename>", "/favicon.ico", "/healthz", "/readyz"}


@pytest.mark.sqlite_only
def test_every_page_route_is_in_the_matrix(app):
    """A new page route (or a new method on one) must be added to the table above."""
    routes = {(m, r.rule) for r in app.url_map.iter_rules()
              if not r.rule.startswith("/api/") and r.rule not in NOT_PAGES
              for m in r.methods - {"HEAD", "OPTIONS"}}
    covered = {(method, rule) for method, rule, _ in PAGES.values()}
    assert routes - covered == set(), sorted(routes - covered)


LIST_PAGES = {
    "dispatcher": ["/dispatcher/tickets", "/dispatcher/tickets/list", "/dispatcher/tickets/poll"],
    "tech": ["/tech/dashboard", "/notifications", "/notifications/bell"],
    "mgr": ["/store", "/notifications", "/store/tickets/new"],
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("actor", ["tech", "mgr"])
def test_list_pages_never_show_another_branchs_ticket(world, as_actor, backend, actor):
    scene = build_scene(world)
    client = as_actor(actor)
    for path in LIST_PAGES[actor]:
        r = client.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code in (200, 286), (path, r.status_code)
        assert scene.other.ticket_number not in html, path
        assert "SECRET-OTHER-BRANCH" not in html, path
        assert scene.other.id not in html, path
        assert world.other_branch.branch_name not in html, path
    # and their own tickets are there, so the check above is not vacuous
    assert scene.assigned.ticket_number in client.get(LIST_PAGES[actor][0]).get_data(as_text=True)
