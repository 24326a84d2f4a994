"""The rules behind the front desk of issue 27: BPJS card numbers, the patient search's
kinds, the region picker, what a branch lacks, the demo's doctors and mail honesty."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita import routes
from klinikita.models import Branch, Employee
from klinikita.models.clinical import Payer
from klinikita.models.enums import DOCTOR_DUTIES
from klinikita.services import password_reset, regions
from klinikita.services.patient_records import take_bpjs_number
from klinikita.services.patients import SearchKind, resolve_kind
from klinikita.services.registration import (
    VisitInput,
    desk_view,
    setup_gaps,
    visit_bpjs_number,
)
from klinikita.settings import get_settings
from tests.patients_support import add_regions


@pytest.mark.parametrize(
    ("typed", "kept", "wrong"),
    [
        ("", "", False),
        ("0001234567890", "0001234567890", False),
        ("0001 2345 67890", "0001234567890", False),  # grouped as on the card
        ("000123456789", "", True),  # 12 digits
        ("00012345678901", "", True),  # 14 digits
        ("000123456789O", "", True),  # a letter O
        ("٠٠٠١٢٣٤٥٦٧٨٩٠", "", True),  # Arabic-Indic digits: not ASCII
        ("０００１２３４５６７８９０", "", True),  # full-width digits
    ],
)
def test_a_bpjs_number_is_exactly_thirteen_ascii_digits(typed, kept, wrong):
    errors: dict[str, str] = {}
    assert take_bpjs_number(errors, "bpjs_number", typed) == kept
    assert bool(errors) is wrong


def test_a_visit_keeps_the_card_number_only_when_bpjs_pays():
    assert visit_bpjs_number(VisitInput(payer=Payer.BPJS, bpjs_number="0001 2345 67890")) == (
        "0001234567890"
    )
    assert visit_bpjs_number(VisitInput(payer=Payer.UMUM, bpjs_number="0001234567890")) is None


def test_thirteen_digits_are_searched_as_a_bpjs_number():
    assert resolve_kind("0001234567890") == SearchKind.BPJS
    assert resolve_kind("0812345678901") == SearchKind.PHONE  # 13 digits, a mobile number
    assert resolve_kind("3171012511900001") == SearchKind.NIK
    assert resolve_kind("000001") == SearchKind.MRN


def test_what_a_branch_lacks_is_named_with_where_to_add_it():
    assert setup_gaps(1, 1, 1) == []
    assert [(g.key, g.href) for g in setup_gaps(0, 0, 0)] == [
        ("unit", routes.REFERENSI_UNIT),
        ("room", routes.REFERENSI_RUANGAN),
        ("doctor", routes.KONTAK_KARYAWAN),
    ]
    [gap] = setup_gaps(2, 3, 0)
    assert gap.key == "doctor" and "Karyawan" in gap.link_label


def test_region_words_and_codes():
    assert regions.region_words("  Cilandak,  BARAT ") == ["cilandak", "barat"]
    assert regions.chain_codes("31.74.06.1001") == ("31", "31.74", "31.74.06", "31.74.06.1001")


def test_the_region_picker_finds_cilandak_in_the_official_list(db):
    regions.load_regions(db.connection())
    db.commit()
    assert regions.find_villages(db, "ci") == []  # under three letters: nothing yet
    picks = regions.find_villages(db, "cilandak")
    labels = [p.label for p in picks]
    assert (
        "Cilandak Barat, Kec. Cilandak, Kota Administrasi Jakarta Selatan, "
        "Daerah Khusus Ibukota Jakarta"
    ) in labels
    # The villages of Kecamatan Cilandak are found by the kecamatan's name too.
    assert any(p.label.startswith("Pondok Labu, Kec. Cilandak") for p in picks)
    # More words narrow it, and the village named by all of them comes first.
    [first, *_] = regions.find_villages(db, "cilandak barat")
    assert (first.village_code, first.district_code) == ("31.74.06.1001", "31.74.06")
    assert (first.city_code, first.province_code) == ("31.74", "31")
    # A city's name alone names no village: the other word finds them, the city narrows.
    cipete = regions.find_villages(db, "cipete jakarta")
    assert {p.village_code for p in cipete} == {"31.74.06.1005", "31.74.07.1010"}
    assert regions.find_villages(db, "zzzqqq") == []


def test_picking_a_village_gives_the_four_lists(db):
    add_regions(db)
    picked = regions.picked_village(db, "31.71.01.1002")
    assert picked.pick.label.startswith("Cideng, Kec. Gambir")
    assert [o.code for o in picked.villages] == ["31.71.01.1002", "31.71.01.1001"]
    assert regions.picked_village(db, "31.71.01") is None  # a kecamatan, not a village
    assert regions.picked_village(db, "x" * 13) is None


def test_every_demo_branch_has_a_doctor_from_its_first_minute(db):
    from klinikita.services.seed import seed_demo

    seed_demo(db, queue_satusehat=False)
    db.commit()
    for branch in db.exec(select(Branch)).all():
        doctors = db.exec(
            select(Employee).where(
                Employee.branch_id == branch.id,
                Employee.main_duty.in_([d.value for d in DOCTOR_DUTIES]),
            )
        ).all()
        assert doctors, branch.name
        assert desk_view(db, branch.id).gaps == [], branch.name


def test_mail_is_configured_only_with_a_server(monkeypatch):
    assert not password_reset.mail_configured()
    monkeypatch.setenv("KLINIKITA_SMTP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    try:
        assert password_reset.mail_configured()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_without_mail_a_reset_request_makes_no_link(db):
    from klinikita.models import PasswordResetToken
    from tests.factories import make_branch, make_user

    make_user(db, "sari", branches=[make_branch(db, "A")], email="sari@klinik.test")
    assert password_reset.request_reset(db, "sari") is None
    assert db.exec(select(PasswordResetToken)).all() == []
