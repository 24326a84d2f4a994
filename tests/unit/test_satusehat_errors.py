"""SATUSEHAT's refusals in words staff can act on: the documented table is what the module
does, row by row, and the raw text is kept for Detail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klinikita.models.enums import SyncStatus
from klinikita.services import satusehat_errors as errs

DOC = Path(__file__).resolve().parents[2] / "docs" / "satusehat.md"
SUBJECT = errs.Subject(branch_id=3, patient_id=5, visit_id=7)
LINKS = {
    "Pengaturan > Cabang": "/pengaturan?cabang=3",
    "Kontak > Pasien": "/kontak/pasien?pasien=5",
    "Kontak > Karyawan": "/kontak/karyawan",
    "Referensi > Ruangan": "/referensi/ruangan",
    "Pemeriksaan": "/pemeriksaan?kunjungan=7",
    "-": "",
}


def _table_rows() -> list[tuple[str, str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- error-table:start -->")[1].split("<!-- error-table:end -->")[0]
    rows = []
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rule, _, example, starts, link = cells
        rows.append((rule, example.strip("`"), starts, link))
    return rows


ROWS = _table_rows()


def test_the_table_documents_every_rule_once():
    documented = [rule for rule, *_ in ROWS if rule != "(none)"]
    assert documented == [rule.key for rule in errs.RULES]


@pytest.mark.parametrize(("rule", "example", "starts", "link"), ROWS, ids=[r[0] for r in ROWS])
def test_each_documented_row_maps_as_documented(rule, example, starts, link):
    matched = errs.match_rule(example)
    assert (matched.key if matched else "(none)") == rule
    shown = errs.explain(example, SUBJECT, what="data kunjungan ini")
    assert shown.message.startswith(starts)
    assert shown.link == LINKS[link]
    assert shown.link_label == ("" if link == "-" else link)
    assert shown.detail == example  # the raw text stays, for Detail
    assert not re.search(r"HTTP \d{3}", shown.message)  # never the bare status line


def test_the_fallback_quotes_satusehat_short_without_the_status_and_rule_number():
    raw = "HTTP 400: Something odd happened (RuleNumber: 99999)"
    shown = errs.explain(raw, SUBJECT, what="data kunjungan ini")
    assert (
        shown.message
        == "SATUSEHAT menolak data kunjungan ini: Something odd happened. Lihat Detail."
    )
    assert (shown.link, shown.detail) == ("", raw)


def test_the_apps_own_messages_are_shown_as_they_are_without_detail():
    own = "Pasien belum punya NIK 16 digit; lengkapi di Kontak lalu kirim ulang."
    assert errs.explain(own, SUBJECT) == errs.Explained(own, errs.Target.NONE, "", "", "")
    assert errs.explain("", SUBJECT).message == ""
    assert errs.explain(None).message == ""


def test_refused_keys_link_the_admin_to_the_branch_and_tell_others_to_call_the_admin():
    admin = errs.key_refused_message(SUBJECT, may_fix=True)
    assert admin.message.startswith("Kunci SATUSEHAT ditolak")
    assert admin.link == "/pengaturan?cabang=3"
    nurse = errs.key_refused_message(SUBJECT, may_fix=False)
    assert nurse.message.startswith("Kunci SATUSEHAT ditolak") and "admin" in nurse.message
    assert nurse.link == ""


def test_a_visit_held_by_refused_keys_says_so_instead_of_waiting_for_a_lookup():
    held = errs.visit_sync_message(
        sync_status=SyncStatus.SENDING,
        sync_error="",
        key_refused=True,
        subject=SUBJECT,
        may_fix=True,
    )
    assert held.message.startswith("Kunci SATUSEHAT ditolak")
    sending = errs.visit_sync_message(
        sync_status=SyncStatus.SENDING,
        sync_error="",
        key_refused=False,
        subject=SUBJECT,
        may_fix=True,
    )
    assert sending.message == ""
    failed = errs.visit_sync_message(
        sync_status=SyncStatus.FAILED,
        sync_error="HTTP 400: Location.position is required (Location.position)",
        key_refused=True,
        subject=SUBJECT,
        may_fix=False,
    )
    assert failed.message.startswith("Koordinat ruangan") and failed.link == "/referensi/ruangan"


def test_a_list_row_gets_the_sentence_and_keeps_the_raw_text_for_detail():
    raw = "HTTP 400: Location.position is required (Location.position)"
    assert errs.row_hint(raw) == {
        "error": errs.explain(raw).message,
        "error_detail": raw,
    }
    assert errs.row_hint(None) == {"error": "", "error_detail": ""}
