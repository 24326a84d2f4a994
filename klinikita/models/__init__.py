"""All tables. Importing this package registers every table on SQLModel.metadata."""

from klinikita.models import (  # noqa: F401  (search objects outside the models)
    drug_search,
    patient_search,
)
from klinikita.models.accounts import (
    LoginSession,
    PasswordResetToken,
    User,
    UserBranch,
    UserDuty,
)
from klinikita.models.allergies import PatientAllergy
from klinikita.models.audit import AuditLog
from klinikita.models.clinical import (
    Diagnosis,
    Examination,
    Prescription,
    PrescriptionIngredient,
    Procedure,
    QueueCounter,
    Visit,
)
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, MrnCounter, Patient
from klinikita.models.pharmacy import (
    Dispense,
    DispenseLine,
    DrugItem,
    GoodsReceipt,
    StockBatch,
    StockMovement,
)
from klinikita.models.regions import Region
from klinikita.models.satusehat import SyncJob, SyncLog, WorkerHeartbeat

__all__ = [
    "AuditLog",
    "Branch",
    "Diagnosis",
    "Dispense",
    "DispenseLine",
    "DrugItem",
    "Employee",
    "Examination",
    "GoodsReceipt",
    "LoginSession",
    "MrnCounter",
    "PasswordResetToken",
    "Patient",
    "PatientAllergy",
    "Prescription",
    "PrescriptionIngredient",
    "Procedure",
    "QueueCounter",
    "Region",
    "Room",
    "ServiceUnit",
    "StockBatch",
    "StockMovement",
    "SyncJob",
    "SyncLog",
    "User",
    "UserBranch",
    "UserDuty",
    "Visit",
    "WorkerHeartbeat",
]
