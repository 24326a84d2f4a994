"""All tables. Importing this package registers every table on SQLModel.metadata."""

from klinikita.models import patient_search  # noqa: F401  (search objects outside the models)
from klinikita.models.accounts import (
    LoginSession,
    PasswordResetToken,
    User,
    UserBranch,
    UserDuty,
)
from klinikita.models.audit import AuditLog
from klinikita.models.clinical import (
    Diagnosis,
    Examination,
    Prescription,
    Procedure,
    QueueCounter,
    Visit,
)
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, MrnCounter, Patient
from klinikita.models.regions import Region
from klinikita.models.satusehat import SyncJob, SyncLog, WorkerHeartbeat

__all__ = [
    "AuditLog",
    "Branch",
    "Diagnosis",
    "Employee",
    "Examination",
    "LoginSession",
    "MrnCounter",
    "PasswordResetToken",
    "Patient",
    "Prescription",
    "Procedure",
    "QueueCounter",
    "Region",
    "Room",
    "ServiceUnit",
    "SyncJob",
    "SyncLog",
    "User",
    "UserBranch",
    "UserDuty",
    "WorkerHeartbeat",
    "Visit",
]
