"""Domain enumerations (values are what the API speaks)."""
import enum


class Role(str, enum.Enum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    STORE_MANAGER = "store_manager"


class TechnicianStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    ON_LEAVE = "ON_LEAVE"


class TicketStatus(str, enum.Enum):
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)


class TicketPriority(str, enum.Enum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"


class ApprovalStatus(str, enum.Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class PhotoType(str, enum.Enum):
    BEFORE = "before"
    AFTER = "after"
    WORK = "work"


class NotificationChannel(str, enum.Enum):
    IN_APP = "in_app"
    TELEGRAM = "telegram"
    SMS = "sms"


class NotificationStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker (lease in next_attempt_at)
    SENT = "sent"
    FAILED = "failed"  # permanent error: shown to dispatchers
    CANCELLED = "cancelled"  # the recipient turned the channel off or unlinked it


class TokenKind(str, enum.Enum):
    LOGIN = "login"  # POST /api/auth/token (and a password change): a person's, expires
    SERVICE = "service"  # issued by an admin for another system (the CRM, the bot): never expires


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
