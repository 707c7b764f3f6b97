"""All models, imported here so Alembic and the app see one metadata."""
from app.models.board_version import BoardVersion
from app.models.calendar import WEEKDAYS, TicketPause, WorkingCalendar
from app.models.category import SLA_DEFAULTS, SLA_FIELDS, IssueCategory, IssueSubcategory
from app.models.completion import CompletionPart, ServiceCompletion
from app.models.customer import Customer, CustomerBranch
from app.models.enums import (
    OPEN_STATUSES,
    ApprovalStatus,
    EquipmentKind,
    NotificationChannel,
    NotificationStatus,
    PauseReason,
    PhotoType,
    Role,
    TechnicianStatus,
    TicketPriority,
    TicketSource,
    TicketStatus,
    TokenKind,
)
from app.models.equipment import Equipment, EquipmentEvent
from app.models.notification import Notification
from app.models.technician import Technician, TechnicianBranchAssignment
from app.models.ticket import ServiceTicket, TicketAssignee, TicketCounter, TicketEvent, TicketPhoto
from app.models.user import ApiToken, User, user_branches

__all__ = [
    "BoardVersion", "SLA_DEFAULTS", "SLA_FIELDS", "IssueCategory", "IssueSubcategory", "CompletionPart",
    "ServiceCompletion", "Customer", "CustomerBranch", "OPEN_STATUSES", "ApprovalStatus",
    "NotificationChannel", "NotificationStatus", "PhotoType", "Role", "TechnicianStatus",
    "TicketPriority", "TicketStatus", "TokenKind", "Notification", "Technician",
    "TechnicianBranchAssignment", "ServiceTicket", "TicketAssignee", "TicketCounter", "TicketEvent",
    "TicketPhoto", "ApiToken", "User", "user_branches",
    "Equipment", "EquipmentEvent", "EquipmentKind", "TicketSource",
    "WEEKDAYS", "TicketPause", "WorkingCalendar", "PauseReason",
]
