"""Forms of the account pages."""
from flask_wtf import FlaskForm
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class ProfileForm(FlaskForm):
    phone = StringField("Mobile phone for SMS", validators=[Optional(), Length(max=50)])
    notify_telegram = BooleanField("Telegram messages")
    notify_sms = BooleanField("SMS for urgent tickets")


class LanguageForm(FlaskForm):
    """The language of every page, message and report for this user (app/i18n.py)."""

    locale = SelectField(_l("Language"), choices=[])


class PasswordForm(FlaskForm):
    """Change one's own password; the rule for the new one lives in services.users."""

    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), Length(max=256, message="At most 256 characters.")])
    new_password = PasswordField("New password", validators=[
        DataRequired("Enter a new password."), Length(max=256, message="At most 256 characters.")])
    repeat_password = PasswordField("Repeat the new password", validators=[
        DataRequired("Enter the new password again."),
        EqualTo("new_password", message="The two new passwords are not the same.")])
