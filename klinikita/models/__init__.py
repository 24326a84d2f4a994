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
from klinikita.models.billing import (
    Bill,
    BillLine,
    CashierShift,
    Insurer,
    NotaCounter,
    Payment,
    Tariff,
)
from klinikita.models.clinical import (
    Diagnosis,
    Examination,
    Prescription,
    PrescriptionIngredient,
    Procedure,
    QueueCounter,
    Visit,
)
from klinikita.models.documents import BranchLogo, DocumentCounter, IssuedDocument
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
from klinikita.models.queue_display import DisplayToken, QueueCall
from klinikita.models.regions import Region
from klinikita.models.satusehat import SyncJob, SyncLog, WorkerHeartbeat

__all__ = [
    "Tariff",
    "Payment",
    "NotaCounter",
    "Insurer",
    "CashierShift",
    "BillLine",
    "Bill",
    "AuditLog",
    "Branch",
    "BranchLogo",
    "Diagnosis",
    "DisplayToken",
    "Dispense",
    "DocumentCounter",
    "DispenseLine",
    "DrugItem",
    "Employee",
    "Examination",
    "GoodsReceipt",
    "IssuedDocument",
    "LoginSession",
    "MrnCounter",
    "PasswordResetToken",
    "Patient",
    "PatientAllergy",
    "Prescription",
    "PrescriptionIngredient",
    "Procedure",
    "QueueCall",
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
