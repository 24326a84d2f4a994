"""All tables. Importing this package registers every table on SQLModel.metadata."""

from klinikita.models.accounts import LoginSession, User, UserBranch, UserDuty
from klinikita.models.audit import AuditLog
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, Patient

__all__ = [
    "AuditLog",
    "Branch",
    "Employee",
    "LoginSession",
    "Patient",
    "Room",
    "ServiceUnit",
    "User",
    "UserBranch",
    "UserDuty",
]
