"""Forms of the ticket page that more than one role uses: pausing and resuming the
resolution clock (the assigned technician, dispatchers, admins). Field names are the
API's, so the service's field errors land next to the right input; the rules live in
services/pauses.py."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from app.models import PauseReason
from app.models.enums import LABELS
from app.services.pauses import NOTE_MAX


class ResumeForm(FlaskForm):
    """"Resume work": the version the person saw (a stale one is refused)."""

    version = HiddenField()


class PauseForm(ResumeForm):
    # The reasons as chips, in their words (lazy: the reader's language). The service
    # decides what is valid (OTHER needs a note); the form only gathers.
    reason = RadioField(_l("Why is the work paused?"),
                        choices=[SelectChoice(r.value, LABELS[r]) for r in PauseReason], validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX, message=_l("At most %(max)d characters."))])
