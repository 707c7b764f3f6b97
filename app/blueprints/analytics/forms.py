"""The analytics filter form: a GET form, so the period and filters live in the URL."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.models import TicketPriority
from app.services import analytics
from app.services.errors import ValidationError


class AnalyticsForm(FlaskForm):
    """period (a preset or custom from/to dates) and customer/branch/category/priority."""

    class Meta:
        csrf = False  # read-only GET

    preset = SelectField(_l("Period"), choices=[SelectChoice(v, t) for v, t in analytics.PRESETS], validators=[Optional()])
    date_from = DateField(_l("From"), name="from", validators=[Optional()])
    date_to = DateField(_l("To"), name="to", validators=[Optional()])
    customer = SelectField(_l("Customer"), validators=[Optional()])
    branch = SelectField(_l("Branch"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    priority = SelectField(_l("Priority"), validators=[Optional()])

    def __init__(self, formdata, options: dict):
        super().__init__(formdata=formdata)
        def choices(everything: str, pairs) -> list[SelectChoice]:
            return [SelectChoice("", everything)] + [SelectChoice(v, t) for v, t in pairs]

        self.customer.choices = choices(_("All customers"), options["customers"])
        self.branch.choices = [SelectChoice("", _("All branches"))] + [
            SelectChoice(branch_id, label, optgroup=customer) for branch_id, label, customer in options["branches"]]
        self.category.choices = choices(_("All categories"), options["categories"])
        self.priority.choices = choices(_("All priorities"), options["priorities"])
        if not self.preset.data:
            custom = formdata.get("from") or formdata.get("to")
            self.preset.data = "custom" if custom else "30d"
        self.range: analytics.DateRange | None = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.preset.data == "custom":
            for field in (self.date_from, self.date_to):
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, _("Pick a date.")]
                    ok = False
        if not ok:
            return False
        if self.preset.data == "custom":
            first, last = self.date_from.data, self.date_to.data
        else:
            first, last = analytics.preset_days(self.preset.data, analytics.local_today())
        try:
            self.range = analytics.date_range(first, last, self.preset.data)
        except ValidationError as exc:
            self.date_to.errors = [*self.date_to.errors, exc.fields.get("to", exc.message)]
            return False
        if self.preset.data != "custom":  # show the dates the preset stands for
            self.date_from.data, self.date_to.data = first, last
        return True

    @property
    def filters(self) -> analytics.Filters:
        return analytics.Filters(
            customer_id=self.customer.data or None,
            branch_id=self.branch.data or None,
            category_id=self.category.data or None,
            priority=TicketPriority(self.priority.data) if self.priority.data else None,
        )

    def active_filters(self) -> list[str]:
        """"Branch: FM-001 · Freshmart Central" ... for the filters in use."""
        out = []
        for field in (self.customer, self.branch, self.category, self.priority):
            if field.data:
                label = next((c.label for c in field.choices if c.value == field.data), field.data)
                out.append(_("%(filter)s: %(value)s", filter=field.label.text, value=label))
        return out

    def url_args(self) -> dict:
        """The query string of what is shown (for CSV links and presets)."""
        args = {"preset": self.preset.data}
        if self.range is not None:
            args["from"] = self.range.first_day.isoformat()
            args["to"] = self.range.last_day.isoformat()
        return {**args, **self.filters.as_args()}
