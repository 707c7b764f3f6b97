"""Forms of the store manager's pages. The services validate the values; these forms
carry the CSRF token and keep what was typed when a page is shown again."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField


class ReportProblemForm(FlaskForm):
    branchId = StringField()
    categoryId = StringField()
    subcategoryId = StringField()
    description = TextAreaField()
    priority = StringField(default="NORMAL")
    equipmentId = StringField()
    photos = MultipleFileField()

    def values(self) -> dict:
        out = {k: getattr(self, k).data for k in ("branchId", "categoryId", "subcategoryId", "description",
                                                 "priority")}
        out["equipmentId"] = self.equipmentId.data or None  # "not sure / other": no unit
        return out


class DecisionForm(FlaskForm):
    """Approve (signer's name + signature as a PNG data URL) or reject (a reason)."""

    action = HiddenField()
    signedBy = StringField()
    signature = HiddenField()
    reason = TextAreaField()

    def values(self) -> dict:
        return {"action": self.action.data, "signedBy": self.signedBy.data, "signature": self.signature.data,
                "reason": self.reason.data}
