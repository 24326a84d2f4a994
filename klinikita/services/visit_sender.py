"""Sending one visit: the first Bundle, or an update in place of what SATUSEHAT holds.

Built by `job_preparation` from the visit's rows; its `run` is what the worker calls with a
client. It never writes the database: it returns the ids to write back (`Done`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from klinikita.integrations.satusehat import fhir, fhir_procedure, prescription_ids, reconcile
from klinikita.integrations.satusehat.client import SatusehatClient, entry_ids
from klinikita.integrations.satusehat.outcomes import Duplicate, Ok, Outcome
from klinikita.models.enums import SyncStatus
from klinikita.services import satusehat_rules
from klinikita.services.job_results import Done, Fail, Retry, RowUpdate, from_outcome, set_sync

# Bundle entries beyond the Encounter, Conditions and Observations: their resource type and
# the table whose `resource_id` keeps the id SATUSEHAT gave.
_EXTRA_TYPES = {fhir.EntryKind.PROCEDURE: "Procedure", fhir.EntryKind.ALLERGY: "AllergyIntolerance"}
_EXTRA_TABLES = {fhir.EntryKind.PROCEDURE: "procedure", fhir.EntryKind.ALLERGY: "patient_allergy"}


def _unsettled(kind: str, outcome: Outcome) -> Fail | Retry:
    """A search that was to tell what SATUSEHAT holds did not answer: nothing is marked
    sent; the job goes again later (or stops, when SATUSEHAT refused the search)."""
    fate = from_outcome(outcome)
    fate.message = f"Memastikan {kind} yang sudah tersimpan di SATUSEHAT: {fate.message}"
    return fate


@dataclass
class VisitSender:
    """One send of a visit: the first Bundle (POST of everything), or an update in place
    once the Encounter is known (PUT of what SATUSEHAT holds, POST of the rest).

    Before an update (a correction, or a first send whose Encounter turned out to be
    stored: an earlier answer was lost, or a `duplicate` answer), the Encounter's Conditions
    and Observations are searched and matched to the visit (`reconcile.reconcile`), so
    nothing is created twice and nothing the visit no longer has stays active. A search
    that fails leaves the job to retry; a visit is marked sent only when every resource's
    id is known."""

    rows: dict[str, Any]  # what satusehat_rules.checked_visit_bundle takes, `now` included
    held: fhir.HeldIds | None
    may_exist: bool
    first: fhir.VisitBundle | None = None

    def build(self, held: fhir.HeldIds | None) -> fhir.VisitBundle:
        """The Bundle for what SATUSEHAT holds (`held`); PayloadError when the rows break a
        payload rule."""
        return satusehat_rules.checked_visit_bundle(**self.rows, held=held)

    # ----- what SATUSEHAT holds ----------------------------------------------------------
    async def find_encounter(self, client: SatusehatClient) -> str | None | Fail | Retry:
        visit, branch = self.rows["visit"], self.rows["branch"]
        system = f"{fhir.SYS_IDS}/encounter/{branch.ss_organization_id}"
        subject = self.rows["patient"].ihs_number
        found = await client.find_by_identifier("Encounter", system, visit.uid, subject=subject)
        if found is None or isinstance(found, dict):
            return found["id"] if found else None
        return _unsettled("Encounter", found)

    async def _on_encounter(
        self, client: SatusehatClient, kind: str, encounter_id: str
    ) -> list[dict[str, Any]] | Fail | Retry:
        got = await client.search(kind, encounter=encounter_id)
        if not isinstance(got, Ok):
            return _unsettled(kind, got)
        body = got.body if isinstance(got.body, dict) else {}
        return [e.get("resource") or {} for e in body.get("entry") or []]

    async def reconciled(
        self, client: SatusehatClient, held: fhir.HeldIds
    ) -> fhir.HeldIds | Fail | Retry:
        conditions = await self._on_encounter(client, "Condition", held.encounter_id)
        if not isinstance(conditions, list):
            return conditions
        observations = await self._on_encounter(client, "Observation", held.encounter_id)
        if not isinstance(observations, list):
            return observations
        own = fhir.own_identifiers(
            visit=self.rows["visit"],
            diagnoses=self.rows["diagnoses"],
            examination=self.rows["examination"],
            branch=self.rows["branch"],
        )
        known = reconcile.reconcile(held, conditions=conditions, observations=observations, own=own)
        if isinstance(known, fhir.HeldIds):
            found = await self.held_extras(client, held.encounter_id)
            if not isinstance(found, tuple):
                return found
            extras, strays = found
            known = replace(known, extras=extras, retracted=[*known.retracted, *strays])
        if isinstance(known, fhir.HeldIds) and self.rows.get("prescriptions"):
            requests = await self._on_encounter(client, "MedicationRequest", held.encounter_id)
            if not isinstance(requests, list):
                return requests
            known = replace(known, medication_requests=self._held_requests(held, requests))
        return known

    def extra_types(self) -> list[str]:
        """The resource types of the visit's other entries (Procedure, AllergyIntolerance)."""
        if self.first is None:
            return []
        kinds = {ref.kind for ref in self.first.entries.values()}
        return [t for kind, t in _EXTRA_TYPES.items() if kind in kinds]

    def _wanted_keys(self) -> set[str]:
        """`fhir.extra_key` of every extra resource the visit has now (its first Bundle's)."""
        if self.first is None:
            return set()
        return {
            fhir.extra_key(self.first.bundle["entry"][index]["resource"])
            for index, (kind, _ref) in self.first.entries.items()
            if kind in _EXTRA_TYPES
        } - {""}

    async def held_extras(
        self, client: SatusehatClient, encounter_id: str
    ) -> tuple[dict[str, str], list[dict[str, Any]]] | Fail | Retry:
        """What the Encounter already has of the visit's other resources, by `fhir.extra_key`
        (created before an answer was lost), so they are updated, not created twice; and the
        live Procedures of ours the visit no longer has (removed before their creation was
        confirmed), as `Visit.retracted` items for the Bundle to withdraw."""
        found: dict[str, str] = {}
        strays: list[dict[str, Any]] = []
        # A withdrawn one is never taken again (a new row may reuse a removed row's number).
        retracted = {str(r.get("id")) for r in self.rows["visit"].retracted or []}
        wanted = self._wanted_keys()
        # Procedures are searched even when the visit has none left: one may have been
        # removed before its creation was confirmed.
        for rtype in dict.fromkeys(["Procedure", *self.extra_types()]):
            resources = await self._on_encounter(client, rtype, encounter_id)
            if not isinstance(resources, list):
                return resources
            for resource in resources:
                key = fhir.extra_key(resource)
                rid = str(resource.get("id") or "")
                if not key or not rid or rid in retracted or reconcile.is_withdrawn(resource):
                    continue
                found[key] = rid
                if key not in wanted and rtype == "Procedure":
                    strays.append(fhir_procedure.withdrawal_of(resource))
        return found, strays

    def _held_requests(self, held: fhir.HeldIds, stored: list[dict[str, Any]]) -> dict[int, str]:
        """The MedicationRequest SATUSEHAT holds of each line: known already, or found by
        its prescription-item identifier (a creation whose answer was lost)."""
        visit, branch = self.rows["visit"], self.rows["branch"]
        system = f"{fhir.SYS_IDS}/prescription-item/{branch.ss_organization_id}"
        by_value = {
            i.get("value"): r.get("id")
            for r in stored
            for i in r.get("identifier") or []
            if i.get("system") == system and r.get("id")
        }
        found = dict(held.medication_requests)
        for line in self.rows["prescriptions"]:
            value = prescription_ids.prescription_item_number(visit.uid, line.line_no)
            if line.id not in found and value in by_value:
                found[line.id] = by_value[value]
        return found

    # ----- sending -------------------------------------------------------------------------
    async def run(self, client: SatusehatClient) -> Done | Fail | Retry:
        if self.held is not None:
            return await self.update(client, self.held)
        encounter_id = None
        if self.may_exist:
            found = await self.find_encounter(client)
            if isinstance(found, Fail | Retry):
                return found
            encounter_id = found
        if encounter_id is None:
            outcome = await client.send_transaction(self.first.bundle)
            if isinstance(outcome, Ok):
                return self.written(self.first, outcome)
            if not isinstance(outcome, Duplicate):
                return from_outcome(outcome)
            found = await self.find_encounter(client)
            if isinstance(found, Fail | Retry):
                return found
            if found is None:
                return Fail(outcome.message)
            encounter_id = found
        retracted = list(self.rows["visit"].retracted or [])
        return await self.update(client, fhir.HeldIds(encounter_id, retracted=retracted))

    async def update(self, client: SatusehatClient, held: fhir.HeldIds) -> Done | Fail | Retry:
        """Update the Encounter in place, after matching what it already has: what the
        Bundle would create may be there (an answer lost), and what the visit no longer has
        may be there too (removed before its creation was confirmed)."""
        known = await self.reconciled(client, held)
        if isinstance(known, Fail | Retry):
            return known
        built = self.build(known)
        outcome = await client.send_transaction(built.bundle)
        if not isinstance(outcome, Ok):
            return from_outcome(outcome)
        return self.written(built, outcome, update=True)

    def written(self, built: fhir.VisitBundle, outcome: Ok, update: bool = False) -> Done | Retry:
        """The ids of an accepted Bundle to write back, or a retry when its answer does not
        name every resource (the next attempt finds them)."""
        ids = entry_ids(outcome.body)
        encounter_id, conditions, observations, requests = None, {}, {}, {}
        extras: list[RowUpdate] = []
        missing = 0
        for index, (what, ref) in built.entries.items():
            request = built.bundle["entry"][index]["request"]
            rid = ids[index] if index < len(ids) else None
            if not rid and request["method"] == "PUT":
                rid = request["url"].partition("/")[2]
            missing += not rid
            if what == fhir.EntryKind.ENCOUNTER:
                encounter_id = rid
            elif what == fhir.EntryKind.CONDITION:
                conditions[ref] = rid
            elif what == fhir.EntryKind.OBSERVATION:
                observations[ref] = rid
            elif what in _EXTRA_TABLES:
                extras.append(RowUpdate(_EXTRA_TABLES[what], ref, {"resource_id": rid}))
            elif what == fhir.EntryKind.MEDICATION_REQUEST:
                requests[ref] = rid
        if missing:
            return Retry(
                f"Jawaban SATUSEHAT tidak memuat id untuk {missing} data kunjungan; "
                "dicocokkan lagi pada percobaan berikutnya."
            )
        return self.write_back(encounter_id, conditions, observations, update, extras, requests)

    def write_back(
        self,
        encounter_id: str,
        conditions: dict[int, str],
        observations: dict[str, str],
        update: bool,
        extras: list[RowUpdate] | None = None,
        requests: dict[int, str] | None = None,
    ) -> Done:
        visit, exam = self.rows["visit"], self.rows["examination"]
        # What this send carries (the worker re-queues the job if the visit changed since).
        sent = {"encounter_id": encounter_id, "sent_revision": visit.sync_revision}
        updates = [set_sync("visit", visit.id, SyncStatus.SENT, None, **sent)]
        updates += [
            RowUpdate("diagnosis", diag_id, {"condition_id": cond_id})
            for diag_id, cond_id in conditions.items()
        ]
        updates += [
            RowUpdate("prescription", line_id, {"medication_request_id": request_id})
            for line_id, request_id in (requests or {}).items()
        ]
        if exam is not None and (observations or update):
            # After an update this is the whole set: a cleared vital's Observation is gone.
            updates.append(RowUpdate("examination", exam.id, {"observation_ids": observations}))
        updates += extras or []
        return Done(
            {
                "encounter_id": encounter_id,
                "conditions": len(conditions),
                "observations": len(observations),
                "procedures": sum(u.table == "procedure" for u in extras or []),
                "allergies": sum(u.table == "patient_allergy" for u in extras or []),
                "medication_requests": len(requests or {}),
            },
            tuple(updates),
        )
