"""Reference data: categories with SLA minutes, customers and branches; the names of
categories and subcategories in the reader's language (`local_name`)."""
from __future__ import annotations

from flask import g, has_request_context
from app.i18n import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import SLA_DEFAULTS, Customer, CustomerBranch, IssueCategory, IssueSubcategory, Role
from app.services import access
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.validation import Fields

SLA_API_NAMES = {
    "slaResponseCritical": "sla_response_critical", "slaResponseHigh": "sla_response_high",
    "slaResponseNormal": "sla_response_normal", "slaResponseLow": "sla_response_low",
    "slaResolutionCritical": "sla_resolution_critical", "slaResolutionHigh": "sla_resolution_high",
    "slaResolutionNormal": "sla_resolution_normal", "slaResolutionLow": "sla_resolution_low",
}
MAX_SLA_MINUTES = 60 * 24 * 365


# --- names in the reader's language ----------------------------------------------------
#
# A category or subcategory has its stored `name` (what the API returns, what people
# search and sort by) and may carry the same name in other languages,
# `name_translations` {"ru": ..., "uz": ...}: the seeded ones come with both (app/cli.py
# seed_categories, migration 0014), a dispatcher may type them on the categories page.
# Every page, PDF and message that shows such a name shows `local_name(...)`.

TRANSLATED_LOCALES = ("ru", "uz")
MAX_NAME = 200


from app.i18n import local_text  # noqa: E402  (the rule lives with the languages)


def local_name(obj, lang: str | None = None) -> str:
    """The name of a category or subcategory (an object or a row with `name` and
    `name_translations`) in the reader's language."""
    if obj is None:
        return ""
    return local_text(obj.name, getattr(obj, "name_translations", None), lang)


def local_names_by_id(model) -> dict[str, tuple[str, dict | None]]:
    """{id: (name, translations)} of every category or subcategory (small tables), read
    once per request: for pages that got only an id and a name from an aggregate."""
    key = f"_local_names_{model.__tablename__}"
    if has_request_context() and key in g:
        return g.get(key)
    names = {i: (n, t) for i, n, t in db.session.execute(select(model.id, model.name, model.name_translations))}
    if has_request_context():
        setattr(g, key, names)
    return names


def _translations(f: Fields, given: dict | None, current: dict | None = None) -> dict | None:
    """The translations a form sent ({"ru": "...", "uz": ""}: an empty one is removed),
    merged over the stored ones; None when none is left."""
    if given is None:
        return current
    out = dict(current or {})
    for lang in TRANSLATED_LOCALES:
        if lang not in given:
            continue
        value = given[lang]
        field = "name" + lang.capitalize()
        if value is None or (isinstance(value, str) and not value.strip()):
            out.pop(lang, None)
        elif not isinstance(value, str):
            f.error(field, _("Enter text."))
        elif len(value.strip()) > MAX_NAME:
            f.error(field, _("At most %(num)d characters.", num=MAX_NAME))
        else:
            out[lang] = value.strip()
    return out or None


def list_categories() -> list[IssueCategory]:
    return list(db.session.execute(select(IssueCategory).order_by(IssueCategory.name)).scalars())


def get_category(category_id: str) -> IssueCategory:
    c = db.session.get(IssueCategory, category_id) if isinstance(category_id, str) else None
    if c is None:
        raise NotFound(_("Category not found"))
    return c


def list_subcategories(category_id: str) -> list[IssueSubcategory]:
    """The subcategories of a category (404 for an unknown one)."""
    get_category(category_id)
    return subcategories_of(category_id)


def subcategories_of(category_id: str | None) -> list[IssueSubcategory]:
    """The subcategories of a category, by name (none for an unknown or empty id): the
    forms' dependent list."""
    if not category_id or not isinstance(category_id, str) or len(category_id) > 64:
        return []
    return list(db.session.execute(
        select(IssueSubcategory).where(IssueSubcategory.category_id == category_id).order_by(IssueSubcategory.name)
    ).scalars())


def create_category(actor, data: dict, translations: dict | None = None) -> IssueCategory:
    """A new category; `translations` {"ru": ..., "uz": ...} are its name in those
    languages (the pages' form; the API sends none)."""
    access.require_staff(actor)
    f = Fields(data)
    name = f.text("name", required=True, max_len=200)
    description = f.text("description", max_len=2000)
    names = _translations(f, translations)
    f.check()
    if db.session.execute(select(IssueCategory.id).where(func.lower(IssueCategory.name) == name.lower())).first():
        raise Conflict(_("A category with this name exists"), {"name": _("Already exists.")})
    c = IssueCategory(name=name, description=description, name_translations=names)
    db.session.add(c)
    db.session.flush()
    return c


def _sla_values(f: Fields, data: dict, *, partial: bool) -> dict:
    values = {}
    for api_name, column in SLA_API_NAMES.items():
        if api_name in data:
            v = f.integer(api_name, min_value=1, max_value=MAX_SLA_MINUTES)
            if v is not None:
                values[column] = v
        elif not partial:
            values[column] = SLA_DEFAULTS[column]
    return values


def _check_sla_order(f: Fields, values: dict) -> None:
    for p in ("critical", "high", "normal", "low"):
        r, s = values.get(f"sla_response_{p}"), values.get(f"sla_resolution_{p}")
        if r is not None and s is not None and s < r:
            f.error(f"slaResolution{p.capitalize()}", _("Resolution time cannot be shorter than response time."))


def get_subcategory(subcategory_id: str) -> IssueSubcategory:
    s = None
    if isinstance(subcategory_id, str) and len(subcategory_id) <= 64:
        s = db.session.get(IssueSubcategory, subcategory_id)
    if s is None:
        raise NotFound(_("Subcategory not found"))
    return s


def create_subcategory(actor, category_id: str, data: dict, translations: dict | None = None) -> IssueSubcategory:
    access.require_staff(actor)
    category = get_category(category_id)
    f = Fields(data)
    name = f.text("name", required=True, max_len=200)
    description = f.text("description", max_len=2000)
    names = _translations(f, translations)
    values = _sla_values(f, data, partial=False)
    _check_sla_order(f, values)
    f.check()
    exists = db.session.execute(select(IssueSubcategory.id).where(
        IssueSubcategory.category_id == category.id, func.lower(IssueSubcategory.name) == name.lower())).first()
    if exists:
        raise Conflict(_("This category already has a subcategory with that name"), {"name": _("Already exists.")})
    s = IssueSubcategory(category_id=category.id, name=name, description=description, name_translations=names,
                         **values)
    db.session.add(s)
    db.session.flush()
    return s


def update_subcategory(actor, subcategory_id: str, data: dict, translations: dict | None = None) -> IssueSubcategory:
    """New SLA minutes apply to tickets created from now on (due times are stored);
    `translations` as create_category's (a language left empty loses its translation)."""
    access.require_staff(actor)
    s = get_subcategory(subcategory_id)
    f = Fields(data)
    name = f.text("name", max_len=200)
    description = f.text("description", max_len=2000)
    names = _translations(f, translations, s.name_translations)
    values = _sla_values(f, data, partial=True)
    merged = {c: getattr(s, c) for c in SLA_API_NAMES.values()} | values
    _check_sla_order(f, merged)
    f.check()
    if name and name.lower() != s.name.lower():
        clash = db.session.execute(select(IssueSubcategory.id).where(
            IssueSubcategory.category_id == s.category_id, func.lower(IssueSubcategory.name) == name.lower())).first()
        if clash:
            raise Conflict(_("This category already has a subcategory with that name"), {"name": _("Already exists.")})
        s.name = name
    if "description" in data:
        s.description = description
    if translations is not None:
        s.name_translations = names
    for column, v in values.items():
        setattr(s, column, v)
    db.session.flush()
    return s


def list_customers_for(user) -> list[Customer]:
    """Customers are staff business."""
    access.require_staff(user)
    return list_customers()


def list_branches_for(user) -> list[CustomerBranch]:
    """Active branches by code; a store manager sees only their own."""
    ids = access.branch_ids_of(user) if user.role == Role.STORE_MANAGER else None
    return list_branches(branch_ids=ids)


def list_customers() -> list[Customer]:
    return list(db.session.execute(select(Customer).order_by(Customer.name)).scalars())


def create_customer(actor, data: dict) -> Customer:
    access.require_staff(actor)
    f = Fields(data)
    name = f.text("name", required=True, max_len=200)
    f.check()
    if db.session.execute(select(Customer.id).where(func.lower(Customer.name) == name.lower())).first():
        raise Conflict(_("A customer with this name exists"), {"name": _("Already exists.")})
    c = Customer(name=name)
    db.session.add(c)
    db.session.flush()
    return c


def list_branches(active_only: bool = True, branch_ids: list[str] | None = None) -> list[CustomerBranch]:
    stmt = select(CustomerBranch).order_by(CustomerBranch.branch_code)
    if active_only:
        stmt = stmt.where(CustomerBranch.is_active.is_(True))
    if branch_ids is not None:
        stmt = stmt.where(CustomerBranch.id.in_(branch_ids))
    return list(db.session.execute(stmt).scalars())


def _branch_fields(f: Fields, data: dict, partial: bool) -> dict:
    out = {}
    spec = {
        "branchCode": ("branch_code", 50, not partial), "branchName": ("branch_name", 200, not partial),
        "address": ("address", 500, False), "contactPerson": ("contact_person", 200, False),
        "phone": ("phone", 50, False),
    }
    for api_name, (column, max_len, required) in spec.items():
        if api_name in data or required:
            out[column] = f.text(api_name, required=required, max_len=max_len)
    if "latitude" in data:
        out["latitude"] = f.floating("latitude", min_value=-90, max_value=90)
    if "longitude" in data:
        out["longitude"] = f.floating("longitude", min_value=-180, max_value=180)
    if "isActive" in data:
        out["is_active"] = f.boolean("isActive")
    if "calendarId" in data:
        from app.services.calendar_admin import calendar_for_branch

        try:
            out["calendar"] = calendar_for_branch(data["calendarId"])
        except ValidationError as e:
            for field, message in e.fields.items():
                f.error(field, message)
    return out


def _check_coordinates(f: Fields, latitude, longitude) -> None:
    """A branch has both coordinates or neither: pages draw them as a pair and the
    arrival distance needs both."""
    if (latitude is None) != (longitude is None):
        f.error("longitude" if longitude is None else "latitude", _("Enter latitude and longitude together."))


def create_branch(actor, data: dict) -> CustomerBranch:
    access.require_staff(actor)
    f = Fields(data)
    customer_id = f.text("customerId", required=True, max_len=64)
    values = _branch_fields(f, data, partial=False)
    _check_coordinates(f, values.get("latitude"), values.get("longitude"))
    f.check()
    if db.session.get(Customer, customer_id) is None:
        raise ValidationError(_("Unknown customer"), {"customerId": _("Unknown customer.")})
    clash = db.session.execute(select(CustomerBranch.id).where(
        CustomerBranch.customer_id == customer_id, CustomerBranch.branch_code == values["branch_code"])).first()
    if clash:
        raise Conflict(_("This customer already has a branch with that code"), {"branchCode": _("Already exists.")})
    b = CustomerBranch(customer_id=customer_id, **{k: v for k, v in values.items() if v is not None})
    db.session.add(b)
    db.session.flush()
    return b


def update_branch(actor, branch_id: str, data: dict) -> CustomerBranch:
    access.require_staff(actor)
    b = db.session.get(CustomerBranch, branch_id) if isinstance(branch_id, str) else None
    if b is None:
        raise NotFound(_("Branch not found"))
    f = Fields(data)
    values = _branch_fields(f, data, partial=True)
    _check_coordinates(f, values.get("latitude", b.latitude), values.get("longitude", b.longitude))
    f.check()
    if values.get("branch_code") and values["branch_code"] != b.branch_code:
        clash = db.session.execute(select(CustomerBranch.id).where(
            CustomerBranch.customer_id == b.customer_id, CustomerBranch.branch_code == values["branch_code"])).first()
        if clash:
            raise Conflict(_("This customer already has a branch with that code"), {"branchCode": _("Already exists.")})
    for k, v in values.items():
        if k in ("branch_code", "branch_name") and not v:
            continue
        setattr(b, k, v)
    db.session.flush()
    return b
