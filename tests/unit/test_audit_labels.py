"""Laporan aktivitas speaks Indonesian: every action, record kind and field the code records
with `audit.record` has a label, and a row reads as `Field: before → after` in the branch's
time zone, in the page and in the CSV (no raw JSON)."""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import klinikita
from klinikita.models import AuditLog
from klinikita.models.enums import BranchTimeZone
from klinikita.services import examination, outbox
from klinikita.services.reports import audit_log
from tests.factories import make_branch

SOURCE = Path(klinikita.__file__).parent

# Call sites whose action or record kind is computed: what each can record. A new computed
# call site fails the test until it is described here (and its labels added).
COMPUTED = {
    ("services/examination.py", "f'{entity}_remove'"): {"procedure_remove", "prescription_remove"},
    ("services/examination.py", "entity"): {"procedure", "prescription"},
    ("services/sync_requests.py", "subject_type"): {s for s, _ in outbox.SUBJECTS.values()},
}


def _record_calls():
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                yield path.relative_to(SOURCE).as_posix(), tree, node


def _strings(node: ast.AST) -> list[str] | None:
    """The strings a constant or a conditional of constants can be; None when computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _resolved(module: str, tree: ast.Module, node: ast.AST, keyword: str) -> set[str]:
    """What an action or entity argument can be: a constant, a module constant
    (`ENTITY = "visit"`), a parameter every call in the module passes as a constant
    (`_save(..., entity="room")`), or a call site described in COMPUTED."""
    found = _strings(node)
    if found is not None:
        return set(found)
    key = (module, ast.unparse(node))
    if key in COMPUTED:
        return COMPUTED[key]
    if isinstance(node, ast.Name):
        values: set[str] = set()
        for other in ast.walk(tree):
            if isinstance(other, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in other.targets
            ):
                values |= set(_strings(other.value) or [])
            if isinstance(other, ast.Call):
                for kw in other.keywords:
                    if kw.arg in (node.id, keyword):
                        values |= set(_strings(kw.value) or [])
        if values:
            return values
    raise AssertionError(f"{module}: cannot tell what {ast.unparse(node)} records; add to COMPUTED")


def _argument(call: ast.Call, position: int, name: str) -> ast.AST:
    if len(call.args) > position:
        return call.args[position]
    return next(kw.value for kw in call.keywords if kw.arg == name)


def _recorded() -> tuple[set[str], set[str]]:
    actions: set[str] = set()
    entities: set[str] = set()
    for module, tree, call in _record_calls():
        actions |= _resolved(module, tree, _argument(call, 2, "action"), "action")
        entities |= _resolved(module, tree, _argument(call, 3, "entity"), "entity")
    return actions, entities


def _dict_keys(node: ast.AST) -> set[str]:
    return {
        k.value
        for d in ast.walk(node)
        if isinstance(d, ast.Dict)
        for k in d.keys
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }


def _literal_fields() -> set[str]:
    """Keys the services write into a before/after themselves: in the dicts passed to
    `audit.record`, assigned to `before`/`after`, or set as `after["key"] = ...`."""
    fields: set[str] = set()
    for _module, tree, call in _record_calls():
        for kw in call.keywords:
            if kw.arg in ("before", "after"):
                fields |= _dict_keys(kw.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in ("before", "after"):
                        fields |= _dict_keys(node.value)
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in ("before", "after")
                        and isinstance(target.slice, ast.Constant)
                    ):
                        fields.add(target.slice.value)
    return fields


_SNAPSHOTS = ("snapshot", "_user_after", "_after")  # functions that copy a whole row


def _copies_a_row(node: ast.AST) -> bool:
    return any(
        isinstance(c, ast.Call)
        and (getattr(c.func, "attr", None) or getattr(c.func, "id", None)) in _SNAPSHOTS
        for c in ast.walk(node)
    )


def _snapshot_fields() -> set[str]:
    """The columns of every kind of record whose whole row an audit call copies
    (audit.snapshot copies every column), directly or through a variable of its function."""
    tables = {m.class_.__tablename__: m.class_ for m in SQLModel._sa_registry.mappers}
    entities: set[str] = set()
    for module, tree, call in _record_calls():
        function = next(
            f
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and any(n is call for n in ast.walk(f))
        )
        for kw in call.keywords:
            if kw.arg not in ("before", "after"):
                continue
            copied = _copies_a_row(kw.value)
            if isinstance(kw.value, ast.Name):
                copied = copied or any(
                    isinstance(a, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == kw.value.id for t in a.targets)
                    and _copies_a_row(a.value)
                    for a in ast.walk(function)
                )
            if copied:
                entities |= _resolved(module, tree, _argument(call, 3, "entity"), "entity")
    fields: set[str] = set()
    for entity in entities:
        fields |= set(tables["app_user" if entity == "user" else entity].model_fields)
    return fields


def test_the_scan_finds_the_audit_calls():
    actions, entities = _recorded()
    assert {"exam_soap", "diagnosis_add", "prescription_add", "cancel", "create"} <= actions
    assert {"visit", "patient", "examination", "room", "service_unit"} <= entities


def test_every_recorded_action_has_a_label():
    actions, _ = _recorded()
    missing = sorted(actions - set(audit_log.ACTION_LABELS))
    assert not missing, f"add to audit_log.ACTION_LABELS: {missing}"


def test_every_recorded_kind_of_record_has_a_label():
    _, entities = _recorded()
    missing = sorted(entities - set(audit_log.ENTITY_LABELS))
    assert not missing, f"add to audit_log.ENTITY_LABELS: {missing}"


def test_every_recorded_field_has_a_label():
    # exam_vitals and exam_soap record the vitals and notes under these names.
    sections = set(examination.VITAL_FIELDS) | set(examination.SOAP_FIELDS)
    fields = _literal_fields() | _snapshot_fields() | sections
    assert {"name", "systolic", "order", "extra_duties", "job"} <= fields
    missing = sorted(fields - set(audit_log.FIELD_LABELS) - audit_log.HIDDEN_FIELDS)
    assert not missing, f"add to audit_log.FIELD_LABELS (or HIDDEN_FIELDS): {missing}"


def test_labels_are_words_not_column_names():
    for table in (audit_log.ACTION_LABELS, audit_log.ENTITY_LABELS, audit_log.FIELD_LABELS):
        for key, label in table.items():
            assert "_" not in label, f"{key}: {label}"


# ----- how a row reads --------------------------------------------------------------------
def test_a_change_reads_field_before_after_in_the_branchs_zone(db):
    branch = make_branch(db, "Klinik Timur")
    branch.timezone = BranchTimeZone.WIT
    db.add(branch)
    row = AuditLog(
        at=datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
        branch_id=branch.id,
        username="dokter",
        duty="dokter_umum",
        action="exam_complete",
        entity="visit",
        entity_id="12",
        before={"status": "in_examination", "completed_at": None},
        after={"status": "complete", "completed_at": "2026-11-25T01:00:00+00:00"},
    )
    added = AuditLog(
        at=datetime(2026, 11, 25, 1, 5, tzinfo=UTC),
        branch_id=branch.id,
        action="diagnosis_add",
        entity="diagnosis",
        entity_id="3",
        after={"visit_id": 12, "code": "J06.9", "rank": 1, "id": 3},
    )
    db.add_all([row, added])
    db.commit()
    page = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter())
    newest, done = page.rows
    assert (newest.action_label, newest.entity) == ("tambah diagnosis", "diagnosis")
    assert newest.changes == "ID kunjungan: 12; Kode: J06.9; Urutan: 1"
    assert done.at_text == "25 Nov 2026 10:00:00 WIT"
    assert (done.action_label, done.entity) == ("selesai pemeriksaan", "kunjungan")
    assert done.changes == (
        "Selesai: (kosong) → 25 Nov 2026 10:00:00 WIT; Status: diperiksa → selesai"
    )
    export = audit_log.audit_log_csv(db, branch.id, audit_log.AuditFilter())
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == list(audit_log.AUDIT_CSV_HEADERS)
    assert rows[2] == [
        "25 Nov 2026 10:00:00 WIT",
        "dokter",
        "Dokter umum",
        "selesai pemeriksaan",
        "kunjungan",
        "12",
        done.changes,
    ]
    assert "{" not in export.text  # no raw JSON


def test_csv_cells_stay_formula_safe(db):
    branch = make_branch(db)
    db.add(
        AuditLog(
            branch_id=branch.id,
            action="update",
            entity="patient",
            entity_id="1",
            before={"name": "A"},
            after={"name": "=HYPERLINK(1)"},
        )
    )
    db.add(
        AuditLog(
            branch_id=branch.id,
            action="create",
            entity="patient",
            entity_id="2",
            after={"street": "=1+1", "is_newborn": True, "sex": "female"},
        )
    )
    db.commit()
    page = audit_log.audit_log_page(db, branch.id, audit_log.AuditFilter())
    assert "Alamat: =1+1; Bayi baru lahir: ya; Jenis kelamin: Perempuan" in [
        r.changes for r in page.rows
    ]
    export = audit_log.audit_log_csv(db, branch.id, audit_log.AuditFilter())
    cells = [cell for row in csv.reader(io.StringIO(export.text)) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("extra_duties", ["perawat", "kasir"], None),
        ("is_active", False, "tidak"),
        ("temperature", 36.5, "36,5"),
        ("birth_date", "1990-05-01", "1 Mei 1990"),
        ("order", ["J06.9", "R50.9"], "J06.9, R50.9"),
        ("cancel_reason", "", "(kosong)"),
    ],
)
def test_values_read_as_words(field, value, text):
    shown = audit_log._value_text(field, value, None)
    if text is None:
        assert "_" not in shown and "Perawat" in shown
    else:
        assert shown == text
