"""Corrections after completion: an admin's change to a visit SATUSEHAT holds goes out again.

A completed visit that SATUSEHAT holds (or that is on its way there) is sent again when an
admin changes what it carries there (vitals, diagnoses, coded procedures, allergies):
`job_preparation._prepare_visit` then updates the Encounter, Conditions, Observations and
Procedures in place, creates what was added and withdraws what was removed (entered-in-error).
SOAP and procedures without a code are not sent, so their changes need nothing. The whole
design, with the worker's side: docs/satusehat.md, "Corrections after completion".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from klinikita.integrations.satusehat.fhir import VITAL_SIGNS, stored_utc, utc_instant
from klinikita.models import Visit
from klinikita.models.clinical import Procedure, VisitStatus
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import outbox


def held_by_satusehat(status: str, encounter_id: str | None, sync_status: str) -> bool:
    """The completed visit is in SATUSEHAT or on its way there. A visit whose first send
    failed (no Encounter yet) is not: its "Kirim ulang" sends it as it is by then."""
    return status == VisitStatus.COMPLETE and (
        bool(encounter_id) or sync_status == SyncStatus.SENDING
    )


def send_correction(
    session: Session,
    visit: Visit,
    *,
    now: datetime,
    withdrawn: list[dict[str, Any]] | None = None,
    client_token: str | None = None,
) -> None:
    """After a change SATUSEHAT must hear of, in the change's transaction: the visit's send
    queued again (or the queued one kept), its revision raised; `withdrawn` are resources
    SATUSEHAT holds that the visit no longer has. Nothing when SATUSEHAT does not hold it.
    `visit` is read under its row's lock (services/examination.py takes it), so two
    corrections at once both keep what they withdraw. Its version stays: all of this is
    bookkeeping."""
    if not held_by_satusehat(visit.status, visit.encounter_id, visit.sync_status):
        return
    if visit.sync_status == SyncStatus.FAILED:
        # The refused correction goes out as that same job again, as "Kirim ulang" does, so
        # the failed-jobs report does not keep a job the visit is past.
        outbox.resend_last_failed(session, JobKind.VISIT_SEND, visit.id, now)
    outbox.queue_job(
        session, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token=client_token
    )
    if withdrawn:
        held = list(visit.retracted or [])
        known = {(r["type"], r["id"]) for r in held}
        visit.retracted = held + [r for r in withdrawn if (r["type"], r["id"]) not in known]
    visit.sync_revision += 1
    visit.sync_status, visit.sync_error = SyncStatus.SENDING, None
    visit.updated_at = now
    session.add(visit)


def withdrawn_vitals(
    observation_ids: Mapping[str, str] | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The Observations SATUSEHAT holds (`observation_ids`, by LOINC code) for vitals that
    were recorded `before` and are cleared `after` (both by Examination attribute)."""
    ids = observation_ids or {}
    return [
        {"type": "Observation", "id": ids[v.loinc], "code": v.loinc, "value": old}
        for v in VITAL_SIGNS
        if after.get(v.attribute) is None
        and (old := before.get(v.attribute)) is not None
        and ids.get(v.loinc)
    ]


def withdrawn_diagnosis(condition_id: str | None, code: str, display: str) -> list[dict[str, Any]]:
    """The Condition SATUSEHAT holds for a diagnosis being removed (none if it holds none)."""
    if not condition_id:
        return []
    return [{"type": "Condition", "id": condition_id, "code": code, "display": display}]


def withdrawn_procedure(procedure: Procedure) -> list[dict[str, Any]]:
    """The Procedure SATUSEHAT holds for a procedure being removed (none if it holds none):
    its id, code, the name staff gave it and when it was performed, for
    `fhir_procedure.withdrawn_entries` to resend it as entered-in-error."""
    if not (procedure.resource_id or "").strip():
        return []
    moment = stored_utc(procedure.performed_at)
    return [
        {
            "type": "Procedure",
            "id": procedure.resource_id,
            "code": procedure.code,
            "display": procedure.description,
            "performed_at": utc_instant(moment) if moment else None,
        }
    ]
