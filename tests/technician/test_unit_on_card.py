"""The technician sees the ticket's unit (issue 18): on the queue card and on the
completion form, its name and asset tag, linked to the unit's page (which the technician
may open: a unit of a ticket assigned to them, access.equipment_scope)."""
from __future__ import annotations

import re

from app.extensions import db
from app.services import equipment, tickets
from tests.factories import make_ticket
from tests.helpers import count_statements

HX = {"HX-Request": "true"}


def unit_of(world, tag="CR-007", name="Cold room 7 (dairy)"):
    unit = equipment.create_unit(world.dispatcher, {"branchId": world.branch.id, "assetTag": tag,
                                                    "kind": "COLD_ROOM", "name": name})
    db.session.commit()
    return unit


def on_unit(world, unit, **kw):
    t = make_ticket(world, **kw)
    tickets.link_equipment(t, unit.id, world.dispatcher)
    db.session.commit()
    return t


def card(html: str, ticket) -> str:
    start = html.index(f'id="ticket-{ticket.id}"')
    return html[start:html.index("</article>", start)]


def test_the_queue_card_names_the_unit_and_links_to_its_page(tech, world):
    unit = unit_of(world)
    t = on_unit(world, unit)
    plain = make_ticket(world)  # about the branch only
    db.session.commit()
    html = tech.get("/tech/dashboard").get_data(as_text=True)
    c = card(html, t)
    assert "Cold room 7 (dairy)" in c and "CR-007" in c
    assert f'href="/equipment/{unit.id}"' in c
    assert "Unit:" not in card(html, plain) and "tunit" not in card(html, plain)
    assert tech.get(f"/equipment/{unit.id}").status_code == 200  # the link opens for them


def test_the_completion_form_names_the_unit(tech, world):
    unit = unit_of(world)
    t = on_unit(world, unit)
    tickets.accept(t, world.tech)
    db.session.commit()
    html = tech.get(f"/tech/tickets/{t.id}/complete").get_data(as_text=True)
    head = html[html.index('class="page-head"'):html.index("</div>", html.index('class="page-head"'))]
    assert "Cold room 7 (dairy)" in head and "CR-007" in head and f'href="/equipment/{unit.id}"' in head


def test_the_unit_line_is_in_the_technicians_language(app, world):
    from tests.technician.conftest import sign_in

    world.tech.locale = "ru"
    db.session.commit()
    t = on_unit(world, unit_of(world))
    html = sign_in(app.test_client(), world.tech.email).get("/tech/dashboard").get_data(as_text=True)
    assert "Установка: <a" in card(html, t)


def test_units_on_the_cards_cost_the_same_queries_for_one_ticket_or_many(tech, world):
    on_unit(world, unit_of(world))
    tech.get("/tech/dashboard", headers=HX)
    with count_statements() as few:
        assert tech.get("/tech/dashboard", headers=HX).status_code == 200
    for i in range(5):
        on_unit(world, unit_of(world, tag=f"DC-{i:03d}", name=f"Display case {i}"))
    with count_statements() as many:
        html = tech.get("/tech/dashboard", headers=HX).get_data(as_text=True)
    assert html.count('class="tunit"') == 6
    assert len(many) == len(few)


def test_the_ticket_page_names_the_unit_at_the_top(tech, world):
    """On the ticket's own page the unit is on the card at the top (with the branch), not
    only in the details further down."""
    unit = unit_of(world)
    t = on_unit(world, unit)
    html = tech.get(f"/tickets/{t.id}").get_data(as_text=True)
    top = card(html, t)
    assert 'class="tunit"' in top and "Cold room 7 (dairy)" in top and "CR-007" in top
