"""The Alergi section of the Pemeriksaan page, called directly as the browser would."""

from __future__ import annotations

from reflex import constants
from reflex.istate.data import RouterData

from klinikita.models.allergies import PatientAllergy
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem
from klinikita.state.examination import ExamAllergyState
from tests.factories import make_clinic, make_user, make_visit
from tests.state.conftest import logged_in


def _allergy_tab(db, root, username: str, visit_id: int) -> ExamAllergyState:
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: "tab-allergy"})
    state = logged_in(db, root, ExamAllergyState, username)
    state.load()
    state.open_visit(str(visit_id))
    state.refresh_allergies()
    return state


def test_a_nurse_asks_records_and_withdraws_allergies(db, root):
    branch, unit, room, doctor, patient = make_clinic(db)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    visit = make_visit(db, branch, unit, room, doctor, patient)
    db.add(DrugItem(branch_id=branch.id, name="Amoxicillin 500 mg", unit="tablet",
                    kfa_code="93001019"))  # fmt: skip
    db.commit()
    state = _allergy_tab(db, root, "perawat", visit.id)
    assert state.allergies == [] and state.allergy_status == "unknown" and state.can_allergy

    state.record_no_allergy()
    assert state.allergy_status == "none"
    assert state.allergies[0]["display"] == "Tidak ada alergi"

    state.set_allergy_field("allergen", "udang")
    state.set_allergy_field("severity", "berat")
    state.set_allergy_field("reaction", "bengkak")
    state.record_allergy()
    assert state.allergy_status == "allergies"
    assert [a["display"] for a in state.allergies] == ["Udang, kepiting (krustasea)"]
    assert state.allergy_form["allergen"] == ""  # the form is cleared

    state.set_allergy_field("kind", "drug")
    state.search_allergy_drug("amox")
    assert [d["name"] for d in state.allergy_drugs] == ["Amoxicillin 500 mg"]
    state.pick_allergy_drug(state.allergy_drugs[0]["id"], state.allergy_drugs[0]["name"])
    state.record_allergy()
    assert len(state.allergies) == 2

    state.record_no_allergy()  # refused while allergies are active
    assert "kind" in state.allergy_errors

    first = state.allergies[0]["id"]
    state.ask_withdraw_allergy(first)
    state.withdraw_allergy()
    assert "reason" in state.allergy_errors  # a reason is required
    state.set_allergy_field("reason", "Salah catat")
    state.withdraw_allergy()
    assert [a["display"] for a in state.allergies] == ["Amoxicillin 500 mg"]
    db.expire_all()
    assert db.get(PatientAllergy, int(first)).active is False
