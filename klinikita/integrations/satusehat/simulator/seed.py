"""Seeded registries: demo OAuth clients, the MPI (patients) and the Nakes index (practitioners).

The sandbox tables are the ministry's published dummy data (API.md 4.5 and 5); the demo
people are fictitious, with NIKs shaped like real ones (region, birth date, serial 99xx).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from klinikita.demo_keys import DEMO_KEYS

from .clients import SimClient

JsonDict = dict[str, Any]

NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
NIK_IBU_SYSTEM = "https://fhir.kemkes.go.id/id/nik-ibu"
PATIENT_IHS_SYSTEM = "https://fhir.kemkes.go.id/id/ihs-number"
PRACTITIONER_IHS_SYSTEM = "https://fhir.kemkes.go.id/id/nakes-his-number"
ORG_NUMBER_SYSTEM = "https://fhir.kemkes.go.id/id/org-number"
PATIENT_PROFILE = "https://fhir.kemkes.go.id/r4/StructureDefinition/Patient"
ORGANIZATION_PROFILE = "https://fhir.kemkes.go.id/r4/StructureDefinition/Organization|4.0.1"
ADMIN_CODE_URL = "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode"

_RELATED_PERSON_NS = uuid.UUID("4f1b0c3e-9a57-4d2b-8e61-0c7d5a3b9f12")


@dataclass(frozen=True)
class SeedPerson:
    nik: str
    name: str
    gender: str
    birth_date: str
    ihs: str
    city: str = "Jakarta"
    # Administrative codes: province, city, district, village.
    admin_codes: tuple[str, str, str, str] = ("31", "3171", "317101", "3171011001")
    mother_nik: str | None = None


DEMO_CLIENTS: tuple[SimClient, ...] = tuple(SimClient(*key) for key in DEMO_KEYS)

# --- MPI ---------------------------------------------------------------------------------

SANDBOX_PATIENTS: tuple[SeedPerson, ...] = (
    SeedPerson("9271060312000001", "Ardianto Putra", "male", "1992-01-09", "P02478375538"),
    SeedPerson("9204014804000002", "Claudia Sintia", "female", "1989-11-03", "P03647103112"),
    SeedPerson("9104224509000003", "Elizabeth Dior", "female", "1976-07-07", "P00805884304"),
    SeedPerson("9104223107000004", "Dr. Alan Bagus Prasetya", "male", "1977-09-03", "P00912894463"),
    SeedPerson("9104224606000005", "Ghina Assyifa", "female", "2004-08-21", "P01654557057"),
    SeedPerson(
        "9104025209000006", "Salsabilla Anjani Rizki", "female", "2001-04-16", "P02280547535"
    ),
    SeedPerson("9201076001000007", "Theodore Elisjah", "female", "1985-09-18", "P01836748436"),
    SeedPerson("9201394901000008", "Sonia Herdianti", "female", "1996-06-08", "P00883356749"),
    SeedPerson("9201076407000009", "Nancy Wang", "female", "1955-10-10", "P01058967035"),
    SeedPerson("9210060207000010", "Syarif Muhammad", "male", "1988-11-02", "P02428473601"),
)

# Legacy 12-digit IHS patient used throughout the archived "Resume Medis" collection.
LEGACY_PATIENTS: tuple[SeedPerson, ...] = (
    SeedPerson("3171022809990001", "Budi Santoso", "male", "1944-11-17", "100000030009"),
)

DEMO_PATIENTS: tuple[SeedPerson, ...] = (
    SeedPerson(
        "3174015208859901",
        "Siti Nurhaliza Rahmawati",
        "female",
        "1985-08-12",
        "P19900000001",
        "Jakarta Selatan",
        ("31", "3174", "317401", "3174011002"),
    ),
    SeedPerson(
        "3273010503799902",
        "Budi Hartono",
        "male",
        "1979-03-05",
        "P19900000002",
        "Bandung",
        ("32", "3273", "327301", "3273011001"),
    ),
    SeedPerson(
        "3578016711929903",
        "Dewi Lestari Putri",
        "female",
        "1992-11-27",
        "P19900000003",
        "Surabaya",
        ("35", "3578", "357801", "3578011003"),
    ),
    SeedPerson(
        "3471013001689904",
        "Agus Setiawan",
        "male",
        "1968-01-30",
        "P19900000004",
        "Yogyakarta",
        ("34", "3471", "347101", "3471011002"),
    ),
    SeedPerson(
        "3201014206159905",
        "Nur Aisyah",
        "female",
        "2015-06-02",
        "P19900000005",
        "Bogor",
        ("32", "3201", "320101", "3201011004"),
    ),
    SeedPerson(
        "5171011409909906",
        "I Made Wirawan",
        "male",
        "1990-09-14",
        "P19900000006",
        "Denpasar",
        ("51", "5171", "517101", "5171011001"),
    ),
)

# Newborn registered by the mother's NIK (search `identifier=.../nik-ibu|<NIK>`).
DEMO_NEWBORNS: tuple[SeedPerson, ...] = (
    SeedPerson(
        "",
        "Bayi Ny. Siti Nurhaliza",
        "male",
        "2025-01-15",
        "P19900000007",
        "Jakarta Selatan",
        ("31", "3174", "317401", "3174011002"),
        mother_nik="3174015208859901",
    ),
)

# --- Nakes index -------------------------------------------------------------------------

SANDBOX_PRACTITIONERS: tuple[SeedPerson, ...] = (
    SeedPerson("7209061211900001", "dr. Alexander", "male", "1994-01-01", "10009880728"),
    SeedPerson("3322071302900002", "dr. Yoga Yandika, Sp.A", "male", "1995-02-13", "10006926841"),
    SeedPerson("3171071609900003", "dr. Syarifuddin, Sp.Pd.", "male", "1988-09-16", "10001354453"),
    SeedPerson("3207192310600004", "dr. Nicholas Evan, Sp.B.", "male", "1986-10-23", "10010910332"),
    SeedPerson("6408130207800005", "dr. Dito Arifin, Sp.M.", "male", "1985-07-02", "10018180913"),
    SeedPerson(
        "3217040109800006", "dr. Olivia Kirana, Sp.OG", "female", "1984-09-01", "10002074224"
    ),
    SeedPerson(
        "3519111703800007", "dr. Alicia Chrissy, Sp.N.", "female", "1983-03-17", "10012572188"
    ),
    SeedPerson(
        "5271002009700008", "dr. Nathalie Tan, Sp.PK.", "female", "1982-09-20", "10018452434"
    ),
    SeedPerson("3313096403900009", "Sheila Annisa S.Kep", "female", "1981-03-24", "10014058550"),
    SeedPerson(
        "3578083008700010", "apt. Aditya Pradhana, S.Farm.", "male", "1980-10-10", "10001915884"
    ),
)

# Legacy "N1000000x" practitioners of the archived collection; nine share one dummy NIK.
_LEGACY_PRACTITIONER_NAMES = (
    ("N10000001", "Voigt", "367400001111222", "1945-11-17"),
    ("N10000002", "Voigt", "367400001111223", "2000-12-12"),
    ("N10000003", "Ray Sp.Rad.", "367400001111222", "1945-11-17"),
    ("N10000004", "Pamela Educator, RN", "367400001111222", "1945-11-17"),
    ("N10000005", "Paul Therapist, PT", "367400001111222", "1945-11-17"),
    ("N10000006", "Rus, MD.", "367400001111222", "1945-11-17"),
    ("N10000007", "Dorothy", "367400001111222", "1945-11-17"),
    ("N10000008", "Dorothy Clone", "367400001111222", "1945-11-17"),
    ("N10000009", "Dorothies Clone", "367400001111222", "1945-11-17"),
    ("N10000010", "Dorothy Third Clone", "367400001111222", "1945-11-17"),
)
LEGACY_PRACTITIONERS: tuple[SeedPerson, ...] = tuple(
    SeedPerson(nik, name, "male", birth, ihs)
    for ihs, name, nik, birth in _LEGACY_PRACTITIONER_NAMES
)

DEMO_PRACTITIONERS: tuple[SeedPerson, ...] = (
    SeedPerson(
        "3174016104889951",
        "dr. Rina Kartika Sari",
        "female",
        "1988-04-21",
        "10099000001",
        "Jakarta Selatan",
        ("31", "3174", "317401", "3174011001"),
    ),
    SeedPerson(
        "7371010907829952",
        "dr. Andi Pratama, Sp.PD",
        "male",
        "1982-07-09",
        "10099000002",
        "Makassar",
        ("73", "7371", "737101", "7371011002"),
    ),
    SeedPerson(
        "3273014312909953",
        "drg. Maya Anggraini",
        "female",
        "1990-12-03",
        "10099000003",
        "Bandung",
        ("32", "3273", "327301", "3273011002"),
    ),
    SeedPerson(
        "3372015502879954",
        "Bd. Sri Wahyuni, S.Tr.Keb",
        "female",
        "1987-02-15",
        "10099000004",
        "Surakarta",
        ("33", "3372", "337201", "3372011003"),
    ),
)

ALL_SEED_PATIENTS = SANDBOX_PATIENTS + LEGACY_PATIENTS + DEMO_PATIENTS + DEMO_NEWBORNS
ALL_SEED_PRACTITIONERS = SANDBOX_PRACTITIONERS + LEGACY_PRACTITIONERS + DEMO_PRACTITIONERS


# --- resource builders -------------------------------------------------------------------


def _address(person: SeedPerson, use: str) -> JsonDict:
    province, city, district, village = person.admin_codes
    return {
        "use": use,
        "line": ["Jl. Kesehatan No. 1"],
        "city": person.city,
        "country": "ID",
        "extension": [
            {
                "url": ADMIN_CODE_URL,
                "extension": [
                    {"url": "province", "valueCode": province},
                    {"url": "city", "valueCode": city},
                    {"url": "district", "valueCode": district},
                    {"url": "village", "valueCode": village},
                    {"url": "rt", "valueCode": "1"},
                    {"url": "rw", "valueCode": "2"},
                ],
            }
        ],
    }


def patient_resource(person: SeedPerson) -> JsonDict:
    identifiers = [{"system": PATIENT_IHS_SYSTEM, "use": "official", "value": person.ihs}]
    if person.nik:
        identifiers.append({"system": NIK_SYSTEM, "use": "official", "value": person.nik})
    if person.mother_nik:
        identifiers.append(
            {"system": NIK_IBU_SYSTEM, "use": "official", "value": person.mother_nik}
        )
    related = uuid.uuid5(_RELATED_PERSON_NS, person.ihs)
    return {
        "resourceType": "Patient",
        "id": person.ihs,
        "active": True,
        "identifier": identifiers,
        "name": [{"text": person.name, "use": "official"}],
        "gender": person.gender,
        "birthDate": person.birth_date,
        "deceasedBoolean": False,
        "multipleBirthBoolean": False,
        "address": [_address(person, "home")],
        "communication": [
            {
                "language": {
                    "coding": [
                        {"code": "id-ID", "display": "Indonesian", "system": "urn:ietf:bcp:47"}
                    ],
                    "text": "Indonesian",
                },
                "preferred": True,
            }
        ],
        "extension": [
            {
                "url": "https://fhir.kemkes.go.id/r4/StructureDefinition/citizenshipStatus",
                "valueCode": "WNI",
            }
        ],
        "link": [{"other": {"reference": f"RelatedPerson/{related}"}, "type": "refer"}],
        "meta": {"profile": [PATIENT_PROFILE + "|4.0.1", PATIENT_PROFILE]},
    }


def practitioner_resource(person: SeedPerson) -> JsonDict:
    return {
        "resourceType": "Practitioner",
        "id": person.ihs,
        "identifier": [
            {"system": PRACTITIONER_IHS_SYSTEM, "use": "official", "value": person.ihs},
            {"system": NIK_SYSTEM, "use": "official", "value": person.nik},
        ],
        "name": [{"text": person.name, "use": "official"}],
        "gender": person.gender,
        "birthDate": person.birth_date,
        "address": [_address(person, "home")],
        "qualification": [
            {
                "code": {
                    "coding": [
                        {
                            "code": "STR-KKI",
                            "display": "Surat Tanda Registrasi Dokter",
                            "system": "https://terminology.kemkes.go.id/v1-0302",
                        }
                    ]
                },
                "identifier": [
                    {
                        "system": "https://fhir.kemkes.go.id/id/str-kki-number",
                        "use": "official",
                        "value": f"STR/{person.ihs}",
                    }
                ],
                "issuer": {
                    "display": "Konsil Kedokteran Indonesia",
                    "reference": "Organization/10000003",
                },
                "period": {"start": "2020-01-01", "end": "2030-01-01"},
            }
        ],
        "telecom": [{"system": "phone", "use": "mobile", "value": "081200000000"}],
    }


def facility_organization(client: SimClient) -> JsonDict:
    """The facility Organization of a client; it exists on the platform before onboarding."""
    return {
        "resourceType": "Organization",
        "id": client.organization_id,
        "active": True,
        "identifier": [{"system": ORG_NUMBER_SYSTEM, "value": client.organization_id}],
        "name": client.name,
        "type": [
            {
                "coding": [
                    {
                        "code": "prov",
                        "display": "Healthcare Provider",
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    }
                ]
            }
        ],
        "meta": {"profile": [ORGANIZATION_PROFILE]},
    }
