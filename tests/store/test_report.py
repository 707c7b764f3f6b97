"""/tickets/<id>/report (and .pdf): the printable record of a closed job."""
import re
from datetime import timedelta

from app.extensions import db
from app import clock
from app.services import completions, tickets
from tests.factories import make_ticket, signature_data_url
from tests.store.conftest import finished_ticket


def _approved(world, **kw):
    t = finished_ticket(world, **kw)
    completions.decide(t.completion, world.manager, {"action": "approve", "signedBy": "Dilnoza K.",
                                                     "signature": signature_data_url()})
    db.session.commit()
    return t


def test_report_of_a_closed_ticket_has_times_sla_work_costs_photos_and_signature(world, login, freeze):
    freeze("2026-11-24T09:00:00Z")
    t = _approved(world)
    page = login(world.manager).get(f"/tickets/{t.id}/report").get_data(as_text=True)
    assert t.ticket_number in page and "FM-001 · Freshmart Central" in page
    assert "Cooling Equipment Problems / Cold Chambers" in page
    assert page.count('<span class="sla sla-met">Met</span>') == 2
    assert "Replaced the fan motor" in page and "Fan motor" in page and "211.00" in page
    before, after = (p for p in sorted(t.photos, key=lambda p: p.type.value != "before"))
    assert f"/photos/{before.id}?size=thumb" in page and f"/photos/{after.id}?size=thumb" in page
    assert f'src="/signatures/{t.completion.id}"' in page
    assert "Signed by <strong>Dilnoza K.</strong>" in page and "24 Nov 2026 09:00" in page
    assert "Approved in the app by Manager" in page
    for label in ("Reported", "Responded", "On site", "Work finished", "Closed"):  # one zoned rule
        value = re.search(rf"<dt>{label}</dt><dd><time[^>]*>([^<]*)", page).group(1)
        assert value.endswith("UTC"), (label, value)
    assert f'href="/tickets/{t.id}/report.pdf"' in page and 'id="print-report"' in page


def test_a_late_response_is_reported_as_missed(world, login, freeze):
    freeze("2026-11-24T09:00:00Z")
    t = make_ticket(world)  # response due in 24 h, resolution in 48 h
    clock.set_now(clock.now() + timedelta(hours=30))
    tickets.accept(t, world.tech)
    db.session.commit()
    tickets.close_without_completion(t, "Customer fixed it", world.dispatcher)
    db.session.commit()
    page = login(world.dispatcher).get(f"/tickets/{t.id}/report").get_data(as_text=True)
    assert '<span class="sla sla-missed">Missed</span>' in page
    assert '<span class="sla sla-met">Met</span>' in page  # closed within 48 h
    assert "Closed without a completed job. Reason: Customer fixed it" in page


def test_no_report_until_the_ticket_is_closed(world, login):
    t = finished_ticket(world)
    r = login(world.manager).get(f"/tickets/{t.id}/report")
    assert r.status_code == 404
    assert "ready once the work is approved and the ticket is closed" in r.get_data(as_text=True)
    assert login(world.manager).get(f"/tickets/{t.id}/report.pdf").status_code == 404


def test_pdf_download_is_one_page_named_after_the_ticket(world, login):
    t = _approved(world)
    r = login(world.dispatcher).get(f"/tickets/{t.id}/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"] == f'attachment; filename="service-report-{t.ticket_number}.pdf"'
    pdf = r.get_data()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    assert t.ticket_number.encode("utf-16-be") in pdf or t.ticket_number.encode() in pdf
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= 3  # before, after, signature


def test_pdf_keeps_non_latin_text(world, login):
    t = make_ticket(world, description="Холодильная камера не охлаждает, 9°C")
    db.session.commit()
    tickets.close_without_completion(t, "Дубликат", world.dispatcher)
    db.session.commit()
    r = login(world.manager).get(f"/tickets/{t.id}/report.pdf")
    assert r.status_code == 200
    assert b"DejaVu" in r.get_data()  # a Unicode font is embedded, not Latin-1 only


def test_another_branch_and_technicians_cannot_see_the_report(world, login):
    t = _approved(world)
    for path in (f"/tickets/{t.id}/report", f"/tickets/{t.id}/report.pdf", f"/signatures/{t.completion.id}"):
        assert login(world.other_manager).get(path).status_code == 404, path
    assert login(world.tech).get(f"/tickets/{t.id}/report").status_code == 403
    assert login(world.admin).get(f"/tickets/{t.id}/report").status_code == 200
