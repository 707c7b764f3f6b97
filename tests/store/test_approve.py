"""/tickets/<id>/approve: review the work, sign to approve, or reject with a reason."""
import io

from PIL import Image

from app.extensions import db
from app.models import ApprovalStatus, TicketEvent, TicketStatus
from app.services.storage import get_storage
from tests.factories import png_bytes, signature_data_url
from tests.store.conftest import finished_ticket


def _refresh(t):
    db.session.expire_all()
    return db.session.get(type(t), t.id)


def test_page_shows_photos_side_by_side_costs_and_a_signature_pad(world, login):
    t = finished_ticket(world)
    page = login(world.manager).get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    before = [p for p in t.photos if p.type.value == "before"][0]
    after = [p for p in t.photos if p.type.value == "after"][0]
    assert page.index(f"/photos/{before.id}?size=thumb") < page.index(f"/photos/{after.id}?size=thumb")
    assert 'class="tp-photo-sets tp-compare"' in page  # before and after side by side
    assert "Replaced the fan motor" in page
    assert "Fan motor" in page and "$120.50" in page
    assert "R404A refrigerant (kg)" in page and "$30.50" in page      # 2 x 15.25
    assert "Labour: 1.5 h × $40.00" in page and "$60.00" in page
    assert '<td class="num" id="total-cost">$211.00</td>' in page    # 120.50 + 30.50 + 60.00
    assert '<canvas id="signature-pad"' in page
    assert 'name="signedBy" value="Manager"' in page
    assert '>Clear</button>' in page
    assert 'id="approve-button" disabled' in page and ">Approve</button>" in page
    assert ">Reject</button>" in page and '<textarea name="reason" rows="3" required' in page


def test_approving_with_a_drawn_signature_closes_the_ticket_and_keeps_the_png(world, login):
    t = finished_ticket(world)
    client = login(world.manager)
    r = client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "Dilnoza K.",
                                                      "signature": signature_data_url()})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tickets/{t.id}/report")
    t = _refresh(t)
    assert t.status == TicketStatus.CLOSED and t.closed_at is not None
    c = t.completion
    assert c.approval_status == ApprovalStatus.APPROVED and c.signed_by == "Dilnoza K."
    img = Image.open(io.BytesIO(get_storage().get(c.signature_key)))
    assert img.format == "PNG" and img.getchannel("A").getextrema()[1] > 0
    sig = client.get(f"/signatures/{c.id}")
    assert sig.status_code == 200 and sig.mimetype == "image/png"
    ticket_page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert f'src="/signatures/{c.id}"' in ticket_page and "Dilnoza K." in ticket_page


def test_a_blank_signature_is_refused_and_the_ticket_stays_waiting(world, login):
    t = finished_ticket(world)
    r = login(world.manager).post(f"/tickets/{t.id}/approve", data={
        "action": "approve", "signedBy": "Dilnoza K.", "signature": signature_data_url(draw=False)})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "The signature is blank" in page and "Please sign in the box." in page
    assert 'value="Dilnoza K."' in page
    t = _refresh(t)
    assert t.status == TicketStatus.COMPLETED and t.completion.approval_status == ApprovalStatus.PENDING


def test_a_signature_that_is_not_a_png_or_too_big_is_refused(world, login, app):
    import base64

    t = finished_ticket(world)
    client = login(world.manager)
    jpeg = "data:image/png;base64," + base64.b64encode(b"\xff\xd8\xff\xe0 not png").decode()
    assert client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "D",
                                                         "signature": jpeg}).status_code == 400
    huge = "data:image/png;base64," + base64.b64encode(png_bytes(2100, 2000)).decode()
    assert client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "D",
                                                         "signature": huge}).status_code == 413
    assert client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "",
                                                         "signature": signature_data_url()}).status_code == 400
    assert _refresh(t).status == TicketStatus.COMPLETED


def test_rejecting_needs_a_reason(world, login):
    t = finished_ticket(world)
    r = login(world.manager).post(f"/tickets/{t.id}/approve", data={"action": "reject", "reason": "  "})
    assert r.status_code == 400
    assert "This field is required." in r.get_data(as_text=True)
    assert _refresh(t).status == TicketStatus.COMPLETED


def test_rejecting_sends_the_work_back_to_the_technician(world, login, api):
    t = finished_ticket(world)
    client = login(world.manager)
    r = client.post(f"/tickets/{t.id}/approve", data={"action": "reject", "reason": "Still 8°C inside"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/store")
    t = _refresh(t)
    assert t.status == TicketStatus.IN_PROGRESS and t.completion.approval_status == ApprovalStatus.REJECTED
    queue = api.as_(world.tech).get("/api/tickets?status=IN_PROGRESS").json["items"]
    assert [q["ticketNumber"] for q in queue] == [t.ticket_number]
    event = db.session.query(TicketEvent).filter_by(ticket_id=t.id, kind="rejected").one()
    assert event.data["reason"] == "Still 8°C inside"
    assert "Sent back to the technician" in client.get("/store").get_data(as_text=True)
    again = client.get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    assert "Reason: Still 8°C inside" in again and "<canvas" not in again


def test_a_decided_completion_cannot_be_decided_again(world, login):
    t = finished_ticket(world)
    client = login(world.manager)
    client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "D",
                                                  "signature": signature_data_url()})
    r = client.post(f"/tickets/{t.id}/approve", data={"action": "reject", "reason": "late thoughts"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "already been approved or rejected" in page
    assert _refresh(t).status == TicketStatus.CLOSED


def test_nothing_to_approve_before_the_technician_finishes(world, login):
    from tests.factories import make_ticket

    t = make_ticket(world)
    db.session.commit()
    client = login(world.manager)
    page = client.get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    assert "Nothing to approve yet" in page and "<canvas" not in page
    r = client.post(f"/tickets/{t.id}/approve", data={"action": "approve", "signedBy": "D",
                                                      "signature": signature_data_url()})
    assert r.status_code == 302
    assert _refresh(t).status == TicketStatus.ASSIGNED


def test_an_admin_may_approve(world, login):
    t = finished_ticket(world)
    r = login(world.admin).post(f"/tickets/{t.id}/approve", data={
        "action": "approve", "signedBy": "Admin on the phone", "signature": signature_data_url()})
    assert r.status_code == 302
    assert _refresh(t).status == TicketStatus.CLOSED


def test_another_branch_manager_gets_404_and_dispatchers_and_technicians_403(world, login):
    t = finished_ticket(world)
    assert login(world.other_manager).get(f"/tickets/{t.id}/approve").status_code == 404
    assert login(world.other_manager).post(f"/tickets/{t.id}/approve", data={
        "action": "approve", "signedBy": "X", "signature": signature_data_url()}).status_code == 404
    assert login(world.other_manager).get(f"/tickets/{t.id}").status_code == 404
    photo = t.photos[0]
    assert login(world.other_manager).get(f"/photos/{photo.id}").status_code == 404
    assert login(world.dispatcher).get(f"/tickets/{t.id}/approve").status_code == 403
    assert login(world.tech).get(f"/tickets/{t.id}/approve").status_code == 403
    assert login(world.manager).get("/tickets/does-not-exist/approve").status_code == 404
    assert _refresh(t).status == TicketStatus.COMPLETED


def test_the_approve_page_shows_its_times_with_their_zone(app, world, login, monkeypatch):
    """Like the report and the ticket page: a time that could be read elsewhere says its zone."""
    import re

    monkeypatch.setitem(app.config, "APP_TIMEZONE", "Asia/Tashkent")
    t = finished_ticket(world)
    page = login(world.manager).get(f"/tickets/{t.id}/approve").get_data(as_text=True)
    reported = re.search(r"Reported <time[^>]*>([^<]+)</time>", page).group(1)
    finished = re.search(r"finished <time[^>]*>([^<]+)</time>", page).group(1)
    assert reported.endswith(" UTC+5") and finished.endswith(" UTC+5"), (reported, finished)
