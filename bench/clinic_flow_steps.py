"""One visit as staff make it in the browser: the events of Pendaftaran and Pemeriksaan, in
order, with the payloads the pages send (typing sends the field's whole value once)."""

from __future__ import annotations

import asyncio
import time

from bench.ws_client import WsSession, has, var
from klinikita.state.examination import ExaminationState as Exam
from klinikita.state.registration import RegistrationState as Reg

VITALS = {
    "systolic": "120",
    "diastolic": "80",
    "pulse": "84",
    "respiratory_rate": "18",
    "temperature": "36,8",
    "weight": "61,5",
    "height": "165",
    "spo2": "98",
}
SOAP = {
    "subjective": "Batuk pilek 3 hari, demam ringan",
    "objective": "Faring hiperemis, paru bersih",
    "assessment": "ISPA",
    "plan": "Paracetamol 3 x 500 mg, istirahat",
}
CODE = "J06.9"


async def run_visit(
    ws: WsSession, *, patient_id: int, mrn: str, unit_id: int, room_id: int, doctor_id: int
) -> tuple[list[tuple[str, float]], float]:
    """Register, examine and complete one visit; returns each event's round trip in ms and
    the time from pressing Selesai until the encounter id reached the page.

    Each event's answer is recognised by what only it changes (other tabs' live pushes
    arrive on the same socket)."""
    timings: list[tuple[str, float]] = []

    async def event(state_cls: type, handler: str, until, label: str = "", **payload):  # noqa: ANN001, ANN202
        seconds, delta = await ws.call(state_cls, handler, until=until, **payload)
        timings.append((label or handler, seconds * 1000))
        return delta

    # Pendaftaran
    ws.path = "/pendaftaran"
    await event(Reg, "load", lambda d: has(d, Reg, "can_register"), "reg.load")
    await event(
        Reg,
        "pick_patient",
        lambda d: (var(d, Reg, "patient") or {}).get("id") == str(patient_id),
        patient_id=str(patient_id),
    )
    await event(
        Reg,
        "pick_unit",
        lambda d: (var(d, Reg, "choice") or {}).get("unit_id") == str(unit_id),
        unit_id=str(unit_id),
    )
    for field, value in (
        ("room_id", str(room_id)),
        ("doctor_id", str(doctor_id)),
        ("payer", "umum"),
    ):
        await event(
            Reg,
            "set_choice",
            lambda d, f=field, v=value: (var(d, Reg, "choice") or {}).get(f) == v,
            field=field,
            value=value,
        )
    delta = await event(Reg, "register", lambda d: bool(var(d, Reg, "last_number")))
    number, unit = var(delta, Reg, "last_number"), var(delta, Reg, "last_unit")
    registered = time.perf_counter()

    # Pemeriksaan: today's list, open the visit just registered
    ws.path = "/pemeriksaan"
    delta = await event(Exam, "load", lambda d: has(d, Exam, "can_vitals"), "exam.load")
    visit_id = next(
        r["id"]
        for r in var(delta, Exam, "rows")
        if r["mrn"] == mrn and r["queue_number"] == number and r["unit_name"] == unit
    )
    await event(
        Exam, "open_visit", lambda d: var(d, Exam, "visit_id") == int(visit_id), visit_id=visit_id
    )
    for field, value in VITALS.items():
        await event(
            Exam,
            "set_vital",
            lambda d, f=field, v=value: (var(d, Exam, "vitals") or {}).get(f) == v,
            field=field,
            value=value,
        )
    await event(Exam, "save_vitals", lambda d: var(d, Exam, "vitals_dirty") is False)
    for field, value in SOAP.items():
        await event(
            Exam,
            "set_soap",
            lambda d, f=field, v=value: (var(d, Exam, "soap") or {}).get(f) == v,
            field=field,
            value=value,
        )
    await event(Exam, "save_soap", lambda d: var(d, Exam, "soap_dirty") is False)
    await event(Exam, "search_icd", lambda d: bool(var(d, Exam, "icd_results")), query=CODE)
    await event(
        Exam,
        "add_diagnosis",
        lambda d: any(x.get("code") == CODE for x in var(d, Exam, "diagnoses") or []),
        code=CODE,
    )

    # SATUSEHAT refuses an Encounter that ends in the second it starts (and so does the
    # readiness check); a patient never waits less than that.
    await asyncio.sleep(max(0.0, 1.1 - (time.perf_counter() - registered)))
    # Selesai: the answer comes at once; the encounter id is pushed when the worker is done.
    delta = await event(Exam, "complete", lambda d: var(d, Exam, "status") == "complete")
    clicked, arrived = ws.sent_at, time.perf_counter()
    if not var(delta, Exam, "encounter_id"):
        arrived, _ = await ws.wait_for(lambda d: bool(var(d, Exam, "encounter_id")), timeout=60)
    return timings, (arrived - clicked) * 1000
