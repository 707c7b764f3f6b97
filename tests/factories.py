"""Factories for tests: `make_*` build committed rows through the services."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from types import SimpleNamespace

from PIL import Image

from app.extensions import db
from app.models import (
    Customer,
    CustomerBranch,
    IssueSubcategory,
    Role,
    Technician,
    TechnicianStatus,
    TicketPriority,
    User,
)
from app.services import assignment, tickets, users

PASSWORD = "correct-horse-9"


def make_customer(name="Freshmart") -> Customer:
    c = Customer(name=name)
    db.session.add(c)
    db.session.flush()
    return c


def make_branch(customer, code="FM-001", name="Freshmart Central", lat=41.3111, lon=69.2797, **kw) -> CustomerBranch:
    b = CustomerBranch(customer_id=customer.id, branch_code=code, branch_name=name, address=kw.pop("address", "1 Main St"),
                       contact_person=kw.pop("contact_person", "Dilnoza K."), phone=kw.pop("phone", "+998901112233"),
                       latitude=lat, longitude=lon, **kw)
    db.session.add(b)
    db.session.flush()
    return b


def make_technician(name="Timur Tech", phone="+998901234567", status=TechnicianStatus.ACTIVE, *,
                    primary_of=None, secondary_of=None) -> Technician:
    t = Technician(name=name, phone=phone, status=status)
    db.session.add(t)
    db.session.flush()
    if primary_of is not None:
        assignment.assign_to_branch(t.id, primary_of.id, True)
    if secondary_of is not None:
        assignment.assign_to_branch(t.id, secondary_of.id, False)
    return t


def make_user(role: Role, email: str, *, technician=None, branches=(), name=None, phone=None) -> User:
    return users.create_user({
        "email": email, "password": PASSWORD, "role": role.value, "name": name or email.split("@")[0].title(),
        "technicianId": technician.id if technician else None, "branchIds": [b.id for b in branches],
        "phone": phone,
    })


def make_ticket(world, *, by=None, branch=None, priority=TicketPriority.NORMAL, subcategory=None,
                description="Cold chamber at 12°C, should be 2°C") -> "tickets.ServiceTicket":
    sub = subcategory or world.subcategory
    return tickets.create_ticket(by or world.dispatcher, {
        "branchId": (branch or world.branch).id, "categoryId": sub.category_id, "subcategoryId": sub.id,
        "description": description, "priority": priority.value,
    })


def build_world() -> SimpleNamespace:
    from app.cli import seed_categories

    category = seed_categories()
    subs = {s.name: s for s in db.session.query(IssueSubcategory).filter_by(category_id=category.id)}
    customer = make_customer()
    other_customer = make_customer("Coldline")
    branch = make_branch(customer)
    branch2 = make_branch(customer, "FM-002", "Freshmart North", lat=41.35, lon=69.29)
    other_branch = make_branch(other_customer, "CL-001", "Coldline One", lat=41.2, lon=69.2)
    primary = make_technician("Timur Primary", "+998900000001", primary_of=branch, secondary_of=branch2)
    secondary = make_technician("Sardor Secondary", "+998900000002", secondary_of=branch, primary_of=branch2)
    outsider = make_technician("Olim Outsider", "+998900000003", primary_of=other_branch)
    w = SimpleNamespace(
        category=category, subcategories=subs, subcategory=subs["Cold Chambers"], customer=customer,
        other_customer=other_customer, branch=branch, branch2=branch2, other_branch=other_branch,
        primary=primary, secondary=secondary, outsider=outsider,
    )
    w.admin = make_user(Role.ADMIN, "admin@example.com")
    w.dispatcher = make_user(Role.DISPATCHER, "dispatcher@example.com")
    w.dispatcher2 = make_user(Role.DISPATCHER, "dispatcher2@example.com")
    w.tech = make_user(Role.TECHNICIAN, "tech@example.com", technician=primary)
    w.tech2 = make_user(Role.TECHNICIAN, "tech2@example.com", technician=secondary)
    w.outsider_tech = make_user(Role.TECHNICIAN, "outsider@example.com", technician=outsider)
    w.manager = make_user(Role.STORE_MANAGER, "manager@example.com", branches=[branch])
    w.other_manager = make_user(Role.STORE_MANAGER, "other.manager@example.com", branches=[other_branch])
    db.session.commit()
    return w


def jpeg_bytes(width=800, height=600, color=(200, 30, 30), exif=None) -> bytes:
    img = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    if exif is not None:
        img.save(out, format="JPEG", exif=exif)
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


def png_bytes(width=400, height=200, draw=True) -> bytes:
    from PIL import ImageDraw

    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if draw:
        ImageDraw.Draw(img).line([(10, 10), (width - 10, height - 10)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def signature_data_url(draw=True) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(draw=draw)).decode()


@dataclass
class ApiClient:
    client: object
    _tokens: dict = field(default_factory=dict)
    _user: object = None

    def as_(self, user) -> "ApiClient":
        if user.id not in self._tokens:
            token = users.issue_token(user)
            db.session.commit()
            self._tokens[user.id] = token
        clone = ApiClient(self.client, self._tokens)
        clone._user = user
        return clone

    def _headers(self, headers=None):
        h = dict(headers or {})
        if self._user is not None:
            h.setdefault("Authorization", f"Bearer {self._tokens[self._user.id]}")
        return h

    def get(self, path, **kw):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, **kw):
        return self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path, **kw):
        return self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)
