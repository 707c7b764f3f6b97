"""Forms of the account pages."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional


class ProfileForm(FlaskForm):
    phone = StringField("Mobile phone for SMS", validators=[Optional(), Length(max=50)])
    notify_telegram = BooleanField("Telegram messages")
    notify_sms = BooleanField("SMS for urgent tickets")
