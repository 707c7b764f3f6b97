"""Forms of the account pages."""
from flask_wtf import FlaskForm
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class ProfileForm(FlaskForm):
    phone = StringField(_l("Mobile phone for SMS"), validators=[
        Optional(), Length(max=50, message=_l("At most 50 characters."))])
    notify_telegram = BooleanField(_l("Telegram messages"))
    notify_sms = BooleanField(_l("SMS for urgent tickets"))


class LanguageForm(FlaskForm):
    """The language of every page, message and report for this user (app/i18n.py)."""

    locale = SelectField(_l("Language"), choices=[], validate_choice=True)


class PasswordForm(FlaskForm):
    """Change one's own password; the rule for the new one lives in services.users."""

    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=256, message=_l("At most 256 characters."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")), Length(max=256, message=_l("At most 256 characters."))])
    repeat_password = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(_l("Enter the new password again.")),
        EqualTo("new_password", message=_l("The two new passwords are not the same."))])
