"""Forms of the dispatcher workspace.

Field names are the API's (camelCase), so a form's data goes to the same service
function the API calls and the service's field errors land next to the right input.
The forms check presence and length; the rules live in the services.
"""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from app.models import SLA_DEFAULTS, TechnicianStatus, TicketPriority
from app.services.validation import typed_decimal

REQUIRED = "This field is required."


def choices(pairs, placeholder: str | None = None, optgroup=None) -> list[SelectChoice]:
    """(value, label) pairs as select options, after an empty placeholder option."""
    out = [SelectChoice("", placeholder)] if placeholder else []
    return out + [SelectChoice(value, label, optgroup=optgroup(value) if optgroup else None)
                  for value, label in pairs]


PRIORITY_CHOICES = choices((p.value, p.label) for p in TicketPriority)
STATUS_CHOICES = choices((s.value, s.label) for s in TechnicianStatus)


def form_data(form: FlaskForm, *, skip=("csrf_token",)) -> dict:
    """The submitted values keyed by field name (what the services take)."""
    return {name: field.data for name, field in form._fields.items() if name not in skip}


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


class TicketCreateForm(FlaskForm):
    branchId = SelectField("Branch", validate_choice=False, validators=[DataRequired(REQUIRED)])
    categoryId = SelectField("Category", validate_choice=False, validators=[DataRequired(REQUIRED)])
    subcategoryId = SelectField("Subcategory", validate_choice=False, validators=[DataRequired(REQUIRED)])
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, default="NORMAL", validate_choice=False)
    description = TextAreaField("What is wrong", validators=[DataRequired(REQUIRED), Length(max=5000)])
    externalId = StringField("External id (CRM)", validators=[Optional(), Length(max=100)])
    contactName = StringField("Contact name", validators=[Optional(), Length(max=200)])
    contactPhone = StringField("Contact phone", validators=[Optional(), Length(max=50)])


class VersionedForm(FlaskForm):
    """Ticket actions carry the version the dispatcher saw: a stale one is refused."""

    version = HiddenField()


class AssignForm(VersionedForm):
    assignedTechnicianId = SelectField("Technician", validate_choice=False, validators=[DataRequired(REQUIRED)])


class PriorityForm(VersionedForm):
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, validate_choice=False,
                           validators=[DataRequired(REQUIRED)])


class NotesForm(VersionedForm):
    internalNotes = TextAreaField("Internal notes", validators=[Length(max=5000)])


class CloseForm(VersionedForm):
    reason = TextAreaField("Reason", validators=[DataRequired("Say why it is closed."), Length(max=1000)])


class TechnicianForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(REQUIRED), Length(max=200)])
    phone = StringField("Phone", validators=[DataRequired(REQUIRED), Length(max=50)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    status = SelectField("Status", choices=STATUS_CHOICES, default="ACTIVE", validate_choice=False)
    laborRate = StringField("Labour rate per hour", validators=[Optional(), Length(max=20)],
                            filters=[typed_decimal])  # "12,5" is 12.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.timefmt import money_header

        self.laborRate.label.text = money_header("Labour rate per hour")  # "... (USD)"


class TerritoryForm(FlaskForm):
    branchId = SelectField("Branch", validate_choice=False, validators=[DataRequired(REQUIRED)])
    role = SelectField("Role", choices=choices([("primary", "Primary"), ("secondary", "Secondary")]), default="primary",
                       validate_choice=False,
                       validators=[AnyOf(("primary", "secondary"), message="Choose primary or secondary.")])


class CustomerForm(FlaskForm):
    name = StringField("Customer name", validators=[DataRequired(REQUIRED), Length(max=200)])


class BranchForm(FlaskForm):
    customerId = SelectField("Customer", validate_choice=False, validators=[DataRequired(REQUIRED)])
    branchCode = StringField("Branch code", validators=[DataRequired(REQUIRED), Length(max=50)])
    branchName = StringField("Branch name", validators=[DataRequired(REQUIRED), Length(max=200)])
    address = StringField("Address", validators=[Optional(), Length(max=500)])
    contactPerson = StringField("Contact person", validators=[Optional(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    # Text, not FloatField: the service parses and range-checks, and a typo stays on screen.
    latitude = StringField("Latitude", validators=[Optional(), Length(max=30)])
    longitude = StringField("Longitude", validators=[Optional(), Length(max=30)])
    isActive = BooleanField("Active (tickets can be raised)", default=True)


class CategoryForm(FlaskForm):
    name = StringField("Category name", validators=[DataRequired(REQUIRED), Length(max=200)])
    description = StringField("Description", validators=[Optional(), Length(max=2000)])


SLA_FORM_FIELDS = (
    ("slaResponseCritical", "sla_response_critical", "Response, critical"),
    ("slaResponseHigh", "sla_response_high", "Response, high"),
    ("slaResponseNormal", "sla_response_normal", "Response, normal"),
    ("slaResponseLow", "sla_response_low", "Response, low"),
    ("slaResolutionCritical", "sla_resolution_critical", "Resolution, critical"),
    ("slaResolutionHigh", "sla_resolution_high", "Resolution, high"),
    ("slaResolutionNormal", "sla_resolution_normal", "Resolution, normal"),
    ("slaResolutionLow", "sla_resolution_low", "Resolution, low"),
)


def _minutes(label, column):
    return IntegerField(f"{label} (min)", default=SLA_DEFAULTS[column],
                        validators=[DataRequired("Enter minutes (a whole number)."),
                                    NumberRange(min=1, max=525600, message="Between 1 and 525600 minutes.")])


class SubcategoryForm(FlaskForm):
    name = StringField("Subcategory name", validators=[DataRequired(REQUIRED), Length(max=200)])
    description = StringField("Description", validators=[Optional(), Length(max=2000)])


for _api, _column, _label in SLA_FORM_FIELDS:
    setattr(SubcategoryForm, _api, _minutes(_label, _column))
