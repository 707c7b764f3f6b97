"""The unit form (dispatchers and admins). Field names are the API's, so the form's data
goes to services.equipment.create_unit / update_unit and the service's field errors land
next to the right input; the rules live in the service."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.dispatcher.forms import REQUIRED, TOO_LONG, choices
from app.models import EquipmentKind
from app.models import refrigerants
from app.services.validation import typed_decimal

TEXT = ("assetTag", "name", "manufacturer", "model", "serialNumber", "sensorId")


def refrigerant_choices():
    """The GWP table as options: "R404A (GWP 3922)"."""
    return choices(((name, _l("%(name)s (GWP %(gwp)s)", name=name, gwp=gwp))
                    for name, gwp in refrigerants.GWP.items()), _l("None or not known"))


class UnitForm(FlaskForm):
    assetTag = StringField(_l("Asset tag"), validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)])
    kind = SelectField(_l("Kind"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    branchId = SelectField(_l("Branch"), validate_choice=False, validators=[Optional()])
    manufacturer = StringField(_l("Manufacturer"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    serialNumber = StringField(_l("Serial number"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    installedOn = StringField(_l("Installed on"), validators=[Optional(), Length(max=10, message=TOO_LONG)])
    refrigerant = SelectField(_l("Refrigerant"), validate_choice=False)
    chargeKg = StringField(_l("Charge (kg)"), validators=[Optional(), Length(max=20, message=TOO_LONG)],
                           filters=[typed_decimal])
    leakDetection = BooleanField(_l("Leak detection fitted"))
    replacementCost = StringField(_l("Replacement cost"), validators=[Optional(), Length(max=20, message=TOO_LONG)],
                                  filters=[typed_decimal])
    sensorId = StringField(_l("Temperature sensor id"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    setpointC = StringField(_l("Setpoint (°C)"), validators=[Optional(), Length(max=10, message=TOO_LONG)],
                            filters=[typed_decimal])
    isActive = BooleanField(_l("In service (tickets can name it)"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.services.timefmt import money_header

        self.kind.choices = choices(((k.value, k.label) for k in EquipmentKind), _l("Choose a kind…"))
        self.refrigerant.choices = refrigerant_choices()
        self.replacementCost.label.text = money_header(_l("Replacement cost"))

    def values(self, *, creating: bool) -> dict:
        """The service's body: every field (empty ones as None, so an edit can clear them)."""
        out = {}
        for name in TEXT + ("kind", "installedOn", "refrigerant", "chargeKg", "replacementCost", "setpointC"):
            value = getattr(self, name).data
            out[name] = value if value not in ("", None) else None
        out["leakDetection"] = bool(self.leakDetection.data)
        if not creating:
            out["isActive"] = bool(self.isActive.data)
            if self.branchId.data:
                out["branchId"] = self.branchId.data
        return out


class UnitLinkForm(FlaskForm):
    """The ticket page's "which unit" form (dispatchers): a unit of the ticket's branch, or none."""

    version = HiddenField()
    equipmentId = SelectField(_l("Unit"), validate_choice=False)
