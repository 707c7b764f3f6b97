"""Domain enumerations (values are what the API speaks) and the words people read for
them (`label`): every page, message and PDF says `status.label` (the `label` filter in
templates), never the value. The words live in LABELS below, one line per value."""
import enum

from app.i18n import lazy_gettext as _l


class Labelled(str, enum.Enum):
    """A str enum whose members carry the words a person reads (LABELS)."""

    @property
    def label(self) -> str:
        return str(LABELS[self])  # in the reader's language (app/i18n.py)


class Role(Labelled):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    STORE_MANAGER = "store_manager"


class TechnicianStatus(Labelled):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    ON_LEAVE = "ON_LEAVE"


class TicketStatus(Labelled):
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)


class TicketPriority(Labelled):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"


class ApprovalStatus(Labelled):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class PhotoType(Labelled):
    BEFORE = "before"
    AFTER = "after"
    WORK = "work"


class NotificationChannel(Labelled):
    IN_APP = "in_app"
    TELEGRAM = "telegram"
    SMS = "sms"


class NotificationStatus(Labelled):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker (lease in next_attempt_at)
    SENT = "sent"
    FAILED = "failed"  # permanent error: shown to dispatchers
    CANCELLED = "cancelled"  # the recipient turned the channel off or unlinked it


class TokenKind(Labelled):
    LOGIN = "login"  # POST /api/auth/token (and a password change): a person's, expires
    SERVICE = "service"  # issued by an admin for another system (the CRM, the bot): never expires


class EquipmentKind(Labelled):
    COLD_ROOM = "COLD_ROOM"
    DISPLAY_CASE = "DISPLAY_CASE"
    FREEZER = "FREEZER"
    CONDENSING_UNIT = "CONDENSING_UNIT"
    ICE_MACHINE = "ICE_MACHINE"
    OTHER = "OTHER"


class TicketSource(Labelled):
    """Where a ticket came from (API.md, contract v2): a person through the pages or their
    app (STORE, DISPATCHER), another system with a service token (API), the public QR page
    (QR), a temperature alarm (ALARM), a maintenance plan (PLAN), a rule of ours (SYSTEM)."""

    STORE = "STORE"
    DISPATCHER = "DISPATCHER"
    API = "API"
    QR = "QR"
    ALARM = "ALARM"
    PLAN = "PLAN"
    SYSTEM = "SYSTEM"


class PauseReason(Labelled):
    """Why a ticket's resolution clock is paused (API.md, "Pausing the resolution clock")."""

    WAITING_PARTS = "WAITING_PARTS"
    NO_ACCESS = "NO_ACCESS"
    STORE_REQUEST = "STORE_REQUEST"
    PRODUCT_BEING_MOVED = "PRODUCT_BEING_MOVED"
    OTHER = "OTHER"  # needs a note


# What a person reads for each value, translated when read (lazy: the reader's language).
LABELS: dict[Labelled, str] = {
    Role.ADMIN: _l("Admin"),
    Role.DISPATCHER: _l("Dispatcher"),
    Role.TECHNICIAN: _l("Technician"),
    Role.STORE_MANAGER: _l("Store manager"),
    TechnicianStatus.ACTIVE: _l("Active"),
    TechnicianStatus.INACTIVE: _l("Inactive"),
    TechnicianStatus.ON_LEAVE: _l("On leave"),
    TicketStatus.NEW: _l("New"),
    TicketStatus.ASSIGNED: _l("Assigned"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.COMPLETED: _l("Waiting for approval"),
    TicketStatus.CLOSED: _l("Closed"),
    TicketPriority.CRITICAL: _l("Critical"),
    TicketPriority.HIGH: _l("High"),
    TicketPriority.NORMAL: _l("Normal"),
    TicketPriority.LOW: _l("Low"),
    ApprovalStatus.PENDING: _l("Waiting for approval"),
    ApprovalStatus.APPROVED: _l("Approved"),
    ApprovalStatus.REJECTED: _l("Rejected"),
    PhotoType.BEFORE: _l("Before"),
    PhotoType.AFTER: _l("After"),
    PhotoType.WORK: _l("During the work"),
    NotificationChannel.IN_APP: _l("In the app"),
    NotificationChannel.TELEGRAM: _l("Telegram"),
    NotificationChannel.SMS: _l("SMS"),
    NotificationStatus.PENDING: _l("Waiting to be sent"),
    NotificationStatus.SENDING: _l("Sending"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.FAILED: _l("Failed"),
    NotificationStatus.CANCELLED: _l("Cancelled"),
    TokenKind.LOGIN: _l("Sign-in token"),
    TokenKind.SERVICE: _l("Service token"),
    EquipmentKind.COLD_ROOM: _l("Cold room"),
    EquipmentKind.DISPLAY_CASE: _l("Display case"),
    EquipmentKind.FREEZER: _l("Freezer"),
    EquipmentKind.CONDENSING_UNIT: _l("Condensing unit"),
    EquipmentKind.ICE_MACHINE: _l("Ice machine"),
    EquipmentKind.OTHER: _l("Other equipment"),
    TicketSource.STORE: _l("Reported by the store"),
    TicketSource.DISPATCHER: _l("Created by a dispatcher"),
    TicketSource.API: _l("From another system"),
    TicketSource.QR: _l("Reported by QR code"),
    TicketSource.ALARM: _l("Temperature alarm"),
    TicketSource.PLAN: _l("Planned maintenance"),
    TicketSource.SYSTEM: _l("Opened automatically"),
    PauseReason.WAITING_PARTS: _l("Waiting for parts"),
    PauseReason.NO_ACCESS: _l("No access to the store"),
    PauseReason.STORE_REQUEST: _l("Store asked to wait"),
    PauseReason.PRODUCT_BEING_MOVED: _l("Product being moved"),
    PauseReason.OTHER: _l("Other reason"),
}


def label(value) -> str:
    """The words for an enum member, or for its value as stored in an event's data
    ("HIGH" -> "High"); anything else as it is."""
    if isinstance(value, Labelled):
        return value.label
    if isinstance(value, str):
        for member in LABELS:
            if member.value == value and member.name == value.upper():
                return member.label
    return "" if value is None else str(value)


def enum_column(enum_cls):
    """A portable VARCHAR enum (no native PostgreSQL type to migrate)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=20,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )
