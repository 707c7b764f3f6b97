"""Forms of the dispatcher workspace.

Field names are the API's (camelCase), so a form's data goes to the same service
function the API calls and the service's field errors land next to the right input.
The forms check presence and length; the rules live in the services.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from app.models import SLA_DEFAULTS, TechnicianStatus, TicketPriority
from app.models.enums import LABELS
from app.services.validation import typed_decimal

REQUIRED = _l("This field is required.")
TOO_LONG = _l("At most %(max)d characters.")


def choices(pairs, placeholder: str | None = None, optgroup=None) -> list[SelectChoice]:
    """(value, label) pairs as select options, after an empty placeholder option."""
    out = [SelectChoice("", placeholder)] if placeholder else []
    return out + [SelectChoice(value, label, optgroup=optgroup(value) if optgroup else None)
                  for value, label in pairs]


# The lazy labels: each page shows them in its reader's language.
PRIORITY_CHOICES = choices((p.value, LABELS[p]) for p in TicketPriority)
STATUS_CHOICES = choices((s.value, LABELS[s]) for s in TechnicianStatus)


def form_data(form: FlaskForm, *, skip=("csrf_token", "nameRu", "nameUz")) -> dict:
    """The submitted values keyed by field name (what the services take; a name's
    translations go separately: NameTranslationsMixin)."""
    return {name: field.data for name, field in form._fields.items() if name not in skip}


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


class TicketCreateForm(FlaskForm):
    branchId = SelectField(_l("Branch"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    categoryId = SelectField(_l("Category"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    subcategoryId = SelectField(_l("Subcategory"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, default="NORMAL", validate_choice=False)
    description = TextAreaField(_l("What is wrong"), validators=[DataRequired(REQUIRED), Length(max=5000, message=TOO_LONG)])
    externalId = StringField(_l("External id (CRM)"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    contactName = StringField(_l("Contact name"), validators=[Optional(), Length(max=200, message=TOO_LONG)])
    contactPhone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=50, message=TOO_LONG)])
    equipmentId = SelectField(_l("Unit (optional)"), validate_choice=False, validators=[Optional()])


class VersionedForm(FlaskForm):
    """Ticket actions carry the version the dispatcher saw: a stale one is refused."""

    version = HiddenField()


class AssignForm(VersionedForm):
    assignedTechnicianId = SelectField(_l("Technician"), validate_choice=False, validators=[DataRequired(REQUIRED)])


class PriorityForm(VersionedForm):
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, validate_choice=False,
                           validators=[DataRequired(REQUIRED)])


class NotesForm(VersionedForm):
    internalNotes = TextAreaField(_l("Internal notes"), validators=[Length(max=5000, message=TOO_LONG)])


class CloseForm(VersionedForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why it is closed.")), Length(max=1000, message=TOO_LONG)])


class TechnicianForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])
    phone = StringField(_l("Phone"), validators=[DataRequired(REQUIRED), Length(max=50, message=TOO_LONG)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254, message=TOO_LONG)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="ACTIVE", validate_choice=False)
    laborRate = StringField(_l("Labour rate per hour"), validators=[Optional(), Length(max=20, message=TOO_LONG)],
                            filters=[typed_decimal])  # "12,5" is 12.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.timefmt import money_header

        self.laborRate.label.text = money_header(_l("Labour rate per hour"))  # "... (USD)"


class TerritoryForm(FlaskForm):
    branchId = SelectField(_l("Branch"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    role = SelectField(_l("Role"), choices=choices([("primary", _l("Primary")), ("secondary", _l("Secondary"))]), default="primary",
                       validate_choice=False,
                       validators=[AnyOf(("primary", "secondary"), message=_l("Choose primary or secondary."))])


class CustomerForm(FlaskForm):
    name = StringField(_l("Customer name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])


class BranchForm(FlaskForm):
    customerId = SelectField(_l("Customer"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    branchCode = StringField(_l("Branch code"), validators=[DataRequired(REQUIRED), Length(max=50, message=TOO_LONG)])
    branchName = StringField(_l("Branch name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500, message=TOO_LONG)])
    contactPerson = StringField(_l("Contact person"), validators=[Optional(), Length(max=200, message=TOO_LONG)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50, message=TOO_LONG)])
    # Text, not FloatField: the service parses and range-checks, and a typo stays on screen.
    latitude = StringField(_l("Latitude"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    longitude = StringField(_l("Longitude"), validators=[Optional(), Length(max=30, message=TOO_LONG)])
    isActive = BooleanField(_l("Active (tickets can be raised)"), default=True)
    # Choices: "" (around the clock) and every calendar (routes._branch_form_page).
    calendarId = SelectField(_l("Working calendar"), validate_choice=False, validators=[Optional()])


class NameTranslationsMixin:
    """The name in Russian and Uzbek (optional): what readers of those languages see."""

    nameRu = StringField(_l("Name in Russian"), validators=[Optional(), Length(max=200, message=TOO_LONG)])
    nameUz = StringField(_l("Name in Uzbek"), validators=[Optional(), Length(max=200, message=TOO_LONG)])

    def name_translations(self) -> dict:
        return {"ru": self.nameRu.data or "", "uz": self.nameUz.data or ""}


TRANSLATION_FIELDS = ("nameRu", "nameUz")


class CategoryForm(NameTranslationsMixin, FlaskForm):
    name = StringField(_l("Category name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=2000, message=TOO_LONG)])


SLA_FORM_FIELDS = (
    ("slaResponseCritical", "sla_response_critical", _l("Response, critical")),
    ("slaResponseHigh", "sla_response_high", _l("Response, high")),
    ("slaResponseNormal", "sla_response_normal", _l("Response, normal")),
    ("slaResponseLow", "sla_response_low", _l("Response, low")),
    ("slaResolutionCritical", "sla_resolution_critical", _l("Resolution, critical")),
    ("slaResolutionHigh", "sla_resolution_high", _l("Resolution, high")),
    ("slaResolutionNormal", "sla_resolution_normal", _l("Resolution, normal")),
    ("slaResolutionLow", "sla_resolution_low", _l("Resolution, low")),
)
# The same, with the unit, as the form's labels.
SLA_FORM_LABELS = {
    "slaResponseCritical": _l("Response, critical (min)"), "slaResponseHigh": _l("Response, high (min)"),
    "slaResponseNormal": _l("Response, normal (min)"), "slaResponseLow": _l("Response, low (min)"),
    "slaResolutionCritical": _l("Resolution, critical (min)"), "slaResolutionHigh": _l("Resolution, high (min)"),
    "slaResolutionNormal": _l("Resolution, normal (min)"), "slaResolutionLow": _l("Resolution, low (min)"),
}


def _minutes(api, column):
    return IntegerField(SLA_FORM_LABELS[api], default=SLA_DEFAULTS[column],
                        validators=[DataRequired(_l("Enter minutes (a whole number).")),
                                    NumberRange(min=1, max=525600, message=_l("Between 1 and 525600 minutes."))])


class SubcategoryForm(NameTranslationsMixin, FlaskForm):
    name = StringField(_l("Subcategory name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=2000, message=TOO_LONG)])


for _api, _column, _label in SLA_FORM_FIELDS:
    setattr(SubcategoryForm, _api, _minutes(_api, _column))
