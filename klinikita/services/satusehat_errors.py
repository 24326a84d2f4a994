"""SATUSEHAT's refusals in words staff can act on.

`explain` takes the text the worker stored for a failed send (`sync_error`, a job's
`last_error`: "HTTP 400: <diagnostics> (<expression>)", SATUSEHAT's own English, or a token
refusal) and returns one Indonesian sentence that says what to fix, where to fix it (a route
with its query) and the raw text, kept for "Detail". Messages the app wrote itself (already
Indonesian, already naming the place to fix) come back as they are, without a Detail.

The rules are matched in order; the first that matches wins. docs/satusehat.md "Error
messages" lists them, and tests/unit/test_satusehat_errors.py checks that table against this
module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from klinikita import routes
from klinikita.models import Branch
from klinikita.models.enums import SyncStatus


class Target(StrEnum):
    """Where a message sends the reader."""

    BRANCH_KEYS = "branch_keys"  # Pengaturan > Cabang, the branch's form
    PATIENT = "patient"  # Kontak > Pasien, the patient (NIK)
    DOCTOR = "doctor"  # Kontak > Karyawan (NIK, IHS number)
    ROOM = "room"  # Referensi > Ruangan (coordinates)
    UNIT = "unit"  # Referensi > Unit layanan
    VISIT = "visit"  # Pemeriksaan ?kunjungan= (diagnoses, vitals, times)
    NONE = "none"


TARGET_LABELS = {
    Target.BRANCH_KEYS: "Pengaturan > Cabang",
    Target.PATIENT: "Kontak > Pasien",
    Target.DOCTOR: "Kontak > Karyawan",
    Target.ROOM: "Referensi > Ruangan",
    Target.UNIT: "Referensi > Unit layanan",
    Target.VISIT: "Pemeriksaan",
    Target.NONE: "",
}


@dataclass(frozen=True)
class Subject:
    """The row a message is about, so its link can open it."""

    branch_id: int | None = None
    patient_id: int | None = None
    visit_id: int | None = None


@dataclass(frozen=True)
class Explained:
    message: str  # Indonesian, what to fix
    target: Target
    link: str  # route with query; "" when there is nowhere to go
    link_label: str
    detail: str  # SATUSEHAT's own text; "" for the app's own messages

    def shown(self) -> dict[str, str]:
        """As a page var holds it."""
        return {
            "message": self.message,
            "link": self.link,
            "link_label": self.link_label,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Rule:
    key: str
    pattern: re.Pattern[str]
    message: str
    target: Target


def _rule(key: str, pattern: str, message: str, target: Target) -> Rule:
    return Rule(key, re.compile(pattern, re.IGNORECASE), message, target)


KEY_REFUSED = "Kunci SATUSEHAT ditolak"
KEY_REFUSED_MESSAGE = (
    f"{KEY_REFUSED}: Client ID atau Secret Key cabang ini salah. Perbaiki di Pengaturan > "
    "Cabang; kiriman yang menunggu berangkat lagi setelah kunci disimpan."
)
KEY_REFUSED_STAFF = f"{KEY_REFUSED}: kiriman ke SATUSEHAT tertahan. Hubungi admin klinik."

# In order: the first match wins. Token refusals first (they explain every other failure).
RULES: tuple[Rule, ...] = (
    _rule(
        "token-refused",
        r"Client ID atau Secret Key ditolak|not able to be authenticated|ClientId is Invalid"
        r"|invalid_client|rate limit policy",
        KEY_REFUSED_MESSAGE,
        Target.BRANCH_KEYS,
    ),
    _rule(
        "token-environment",
        r"no apiproduct match|InvalidAPICallAsNoApiProductMatchFound",
        "Kunci SATUSEHAT tidak cocok dengan lingkungannya (Sandbox atau Produksi). Periksa "
        "lingkungan dan kunci cabang di Pengaturan > Cabang.",
        Target.BRANCH_KEYS,
    ),
    _rule(
        "consent",
        r"consent or privacy rules|consent, or privacy",
        "Pasien belum memberi persetujuan (consent) berbagi data ke SATUSEHAT. Mintalah "
        "persetujuannya, lalu kirim ulang.",
        Target.PATIENT,
    ),
    _rule(
        "other-organization",
        r"due to business rule|RuleNumber: 1044[467]|RuleNumber: 10453",
        "Organization ID cabang tidak cocok dengan Client ID-nya. Periksa Organization ID di "
        "Pengaturan > Cabang.",
        Target.BRANCH_KEYS,
    ),
    _rule(
        "duplicate",
        r"Found duplicate",
        "Data ini sudah tercatat di SATUSEHAT. Tekan Kirim ulang: aplikasi mengambil ID yang "
        "sudah ada.",
        Target.NONE,
    ),
    _rule(
        "resource-mismatch",
        r"resource_mismatch|resource id mismatch",
        "ID di SATUSEHAT tidak cocok dengan yang tersimpan. Tekan Kirim ulang; bila tetap "
        "gagal, laporkan ke admin.",
        Target.NONE,
    ),
    _rule(
        "location-position",
        r"position|latitude|longitude",
        "Koordinat ruangan belum diisi atau tidak terbaca. Isi lintang dan bujur ruangan di "
        "Referensi > Ruangan (atau koordinat cabang di Pengaturan > Cabang).",
        Target.ROOM,
    ),
    _rule(
        "condition-code",
        r"RuleNumber: 10003|RuleNumber: 10006|RuleNumber: 10317|Condition\.code"
        r"|\.diagnosis|icd-10",
        "Diagnosis kunjungan ini tidak diterima SATUSEHAT (kode ICD-10 tidak dikenal atau "
        "belum ada). Periksa diagnosis di Pemeriksaan.",
        Target.VISIT,
    ),
    _rule(
        "observation-performer",
        r"RuleNumber: 10383|RuleNumber: 10399|performer",
        "Pemeriksa tanda vital harus tenaga kesehatan dengan NIK dan nomor IHS. Lengkapi NIK "
        "karyawan di Kontak > Karyawan.",
        Target.DOCTOR,
    ),
    _rule(
        "observation-value",
        r"RuleNumber: 1000[9]|RuleNumber: 1001[02]|RuleNumber: 10295|valueQuantity"
        r"|effectiveDateTime|Observation\.",
        "Tanda vital kunjungan ini tidak diterima SATUSEHAT. Periksa nilai dan waktu tanda "
        "vital di Pemeriksaan.",
        Target.VISIT,
    ),
    _rule(
        "encounter-subject",
        r"\.subject|Patient/",
        "Pasien belum tercatat di SATUSEHAT (nomor IHS). Periksa NIK pasien di Kontak > "
        "Pasien, lalu kirim ulang.",
        Target.PATIENT,
    ),
    _rule(
        "encounter-participant",
        r"\.participant|Practitioner/",
        "Dokter kunjungan ini belum tercatat di SATUSEHAT. Periksa NIK dokter di Kontak > "
        "Karyawan.",
        Target.DOCTOR,
    ),
    _rule(
        "encounter-location",
        r"\.location|Location/",
        "Ruangan kunjungan ini belum tercatat di SATUSEHAT. Periksa ruangan di Referensi > "
        "Ruangan.",
        Target.ROOM,
    ),
    _rule(
        "encounter-service-provider",
        r"serviceProvider|managingOrganization|partOf|Organization/",
        "Organization ID cabang tidak diterima SATUSEHAT. Periksa Organization ID di "
        "Pengaturan > Cabang.",
        Target.BRANCH_KEYS,
    ),
    _rule(
        "encounter-period",
        r"RuleNumber: 1011[7-9]|RuleNumber: 1012[0-4]|RuleNumber: 10173|\.period"
        r"|statusHistory",
        "Waktu kunjungan (datang, mulai diperiksa, selesai) tidak lengkap atau tidak urut. "
        "Periksa waktu kunjungan di Pemeriksaan.",
        Target.VISIT,
    ),
    _rule(
        "unparseable",
        r"unparseable_resource|missing required field",
        "SATUSEHAT tidak dapat membaca data yang dikirim aplikasi. Laporkan ke admin beserta "
        "Detail di bawah.",
        Target.NONE,
    ),
    _rule(
        "unreachable",
        r"^(HTTP (5\d\d|429|408)|Tidak dapat terhubung|Waktu tunggu habis|Koneksi terputus"
        r"|Gagal setelah)",
        "SATUSEHAT tidak dapat dihubungi. Tekan Kirim ulang nanti; bila terus gagal, "
        "laporkan ke admin.",
        Target.NONE,
    ),
)

# What comes from SATUSEHAT (as opposed to the app's own Indonesian messages).
_FROM_SATUSEHAT = re.compile(
    r"^HTTP \d{3}|RuleNumber|OperationOutcome|Client ID atau Secret Key ditolak"
    r"|not able to be authenticated|ClientId is Invalid|Invalid access token"
    r"|^(Tidak dapat terhubung|Waktu tunggu habis|Koneksi terputus|Gagal setelah)",
    re.IGNORECASE,
)
_SHORT = 160


def link_for(target: Target, subject: Subject) -> str:
    """The route (with query) that opens what `target` names for `subject`."""
    if target == Target.BRANCH_KEYS:
        return f"{routes.PENGATURAN}?cabang={subject.branch_id}" if subject.branch_id else ""
    if target == Target.PATIENT:
        return (
            f"{routes.KONTAK_PASIEN}?pasien={subject.patient_id}"
            if subject.patient_id
            else routes.KONTAK_PASIEN
        )
    if target == Target.DOCTOR:
        return routes.KONTAK_KARYAWAN
    if target == Target.ROOM:
        return routes.REFERENSI_RUANGAN
    if target == Target.UNIT:
        return routes.REFERENSI_UNIT
    if target == Target.VISIT and subject.visit_id:
        return f"{routes.PEMERIKSAAN}?kunjungan={subject.visit_id}"
    return ""


def _short(raw: str) -> str:
    text = re.sub(r"^HTTP \d{3}:\s*", "", raw.strip())
    text = re.sub(r"\s*\(RuleNumber: \d+\)", "", text)
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def match_rule(raw: str) -> Rule | None:
    """The first rule whose pattern matches `raw`, or None."""
    for rule in RULES:
        if rule.pattern.search(raw):
            return rule
    return None


def explain(
    raw: str | None, subject: Subject | None = None, *, what: str = "data ini"
) -> Explained:
    """What staff should do about the stored failure `raw`. `what` names the data in the
    fallback sentence ("data kunjungan ini")."""
    subject = subject or Subject()
    text = (raw or "").strip()
    if not text:
        return Explained("", Target.NONE, "", "", "")
    if not _FROM_SATUSEHAT.search(text):
        return Explained(text, Target.NONE, "", "", "")  # the app's own words
    rule = match_rule(text)
    if rule is None:
        return Explained(
            f"SATUSEHAT menolak {what}: {_short(text)}. Lihat Detail.",
            Target.NONE,
            "",
            "",
            text,
        )
    link = link_for(rule.target, subject)
    label = TARGET_LABELS[rule.target] if link else ""
    return Explained(rule.message, rule.target, link, label, text)


def key_refused_message(subject: Subject, *, may_fix: bool) -> Explained:
    """The message for a branch whose keys SATUSEHAT refused: the admin gets the link to the
    branch's keys, everyone else is told to call the admin."""
    if may_fix:
        link = link_for(Target.BRANCH_KEYS, subject)
        return Explained(
            KEY_REFUSED_MESSAGE, Target.BRANCH_KEYS, link, TARGET_LABELS[Target.BRANCH_KEYS], ""
        )
    return Explained(KEY_REFUSED_STAFF, Target.NONE, "", "", "")


def visit_sync_message(
    *, sync_status: str, sync_error: str, key_refused: bool, subject: Subject, may_fix: bool
) -> Explained:
    """What the examination page says of a visit's send: the refused keys while it is held
    by them, the explained refusal when it failed, nothing otherwise."""
    if sync_status == SyncStatus.SENDING and key_refused:
        return key_refused_message(subject, may_fix=may_fix)
    if sync_status == SyncStatus.FAILED:
        return explain(sync_error, subject, what="data kunjungan ini")
    return Explained("", Target.NONE, "", "", "")


def row_hint(raw: str | None, subject: Subject | None = None) -> dict[str, str]:
    """A list row's SATUSEHAT message as the page shows it: the sentence (`error`) and
    SATUSEHAT's own text for Detail (`error_detail`)."""
    shown = explain(raw, subject)
    return {"error": shown.message, "error_detail": shown.detail}


def branch_key_notice(session: Session, branch_id: int, *, may_fix: bool) -> Explained | None:
    """The refused-keys message for a page of the branch, or None while its keys are fine."""
    branch = session.get(Branch, branch_id)
    if branch is None or branch.ss_key_refused_at is None:
        return None
    return key_refused_message(Subject(branch_id=branch_id), may_fix=may_fix)
