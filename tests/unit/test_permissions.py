import pytest

from klinikita.models.enums import DOCTOR_DUTIES, Duty
from klinikita.navigation import menu_for
from klinikita.services.errors import PermissionDenied
from klinikita.services.permissions import PERMISSIONS, Action, allows, require


def test_every_duty_has_an_entry_and_can_open_beranda():
    assert set(PERMISSIONS) == set(Duty)
    assert all(allows(d, Action.VIEW_BERANDA) for d in Duty)


def test_only_admin_may_edit_or_delete_what_is_recorded():
    for action in (Action.RECORD_EDIT, Action.RECORD_DELETE):
        assert [d for d in Duty if allows(d, action)] == [Duty.ADMIN]


def test_shared_desk_accounts_work_but_cannot_change_records_or_settings():
    for duty in (Duty.LOGIN_KLINIK, Duty.LOGIN_PRAKTIK):
        assert allows(duty, Action.VISIT_REGISTER) and allows(duty, Action.EXAM_COMPLETE)
        for action in (
            Action.RECORD_EDIT,
            Action.RECORD_DELETE,
            Action.BRANCH_SETTINGS,
            Action.USER_CREATE,
            Action.VIEW_PENGATURAN,
        ):
            assert not allows(duty, action)


def test_clinical_actions_follow_the_profession():
    assert allows(Duty.PERAWAT, Action.EXAM_VITALS)
    assert not allows(Duty.PERAWAT, Action.EXAM_COMPLETE)
    assert all(allows(d, Action.EXAM_COMPLETE) for d in DOCTOR_DUTIES)
    assert not allows(Duty.PENDAFTARAN, Action.EXAM_VITALS)
    assert allows(Duty.PENDAFTARAN_KASIR, Action.PAYMENT_RECORD)
    assert allows(Duty.PENDAFTARAN_KASIR, Action.VISIT_REGISTER)
    assert allows(Duty.KASIR, Action.VISIT_REGISTER)  # Pendaftaran: pendaftaran, kasir, admin
    assert not allows(Duty.KASIR, Action.EXAM_VITALS)


def test_menus_follow_the_duty():
    admin = [m.label for m in menu_for(Duty.ADMIN)]
    doctor = [m.label for m in menu_for(Duty.DOKTER_UMUM)]
    assert admin == [
        "Beranda",
        "Pendaftaran",
        "Pemeriksaan",
        "Apotek",
        "Kasir",
        "Resume",
        "Kontak",
        "Referensi",
        "Laporan",
        "Pengaturan",
    ]
    assert "Pengaturan" not in doctor and "Pemeriksaan" in doctor
    assert "Pendaftaran" not in doctor
    assert "Apotek" not in doctor
    assert [m.label for m in menu_for(Duty.ASISTEN_APOTEKER)][:2] == ["Beranda", "Apotek"]


def test_only_the_apoteker_and_admin_cancel_a_dispensing():
    assert allows(Duty.APOTEKER, Action.DISPENSE_CANCEL)
    assert allows(Duty.ADMIN, Action.DISPENSE_CANCEL)
    assert allows(Duty.ASISTEN_APOTEKER, Action.DISPENSE_RECORD)
    assert not allows(Duty.ASISTEN_APOTEKER, Action.DISPENSE_CANCEL)
    assert not allows(Duty.LOGIN_KLINIK, Action.DISPENSE_CANCEL)


def test_the_cashier_has_the_kasir_menu_and_a_doctor_does_not():
    doctor = [m.label for m in menu_for(Duty.DOKTER_UMUM)]
    assert "Kasir" in [m.label for m in menu_for(Duty.KASIR)] and "Kasir" not in doctor


def test_cashier_actions():
    for duty in (Duty.KASIR, Duty.PENDAFTARAN_KASIR, Duty.LOGIN_KLINIK, Duty.ADMIN):
        assert allows(duty, Action.VIEW_KASIR) and allows(duty, Action.PAYMENT_RECORD)
    # A discount is given by a named cashier or admin, never the shared desk login.
    assert allows(Duty.KASIR, Action.BILL_DISCOUNT) and allows(Duty.ADMIN, Action.BILL_DISCOUNT)
    assert not allows(Duty.LOGIN_KLINIK, Action.BILL_DISCOUNT)
    # Voids and tariffs are admin work.
    for action in (Action.BILL_VOID, Action.TARIFF_EDIT):
        assert [d for d in Duty if allows(d, action)] == [Duty.ADMIN]


def test_require_names_the_duty_and_the_refused_action():
    with pytest.raises(PermissionDenied) as err:
        require(Duty.PERAWAT, Action.BRANCH_SETTINGS)
    assert "Perawat" in err.value.message and "pengaturan cabang" in err.value.message
    assert not allows("bukan-tugas", Action.VIEW_BERANDA)


def test_sub_pages_belong_to_their_menu():
    from klinikita.navigation import item_for_route

    assert item_for_route("/kontak/pasien").key == "kontak"
    assert item_for_route("/pengaturan/pengguna").key == "pengaturan"
    assert item_for_route("/").key == "beranda"
    assert item_for_route("/login") is None
    assert item_for_route("/kontakx") is None


def test_the_satusehat_log_goes_only_to_duties_that_read_the_medical_record():
    """Its exchanges hold diagnoses and vital signs: a cashier sees the dashboard's counts,
    not the log; whoever may open the Resume and the Laporan menu gets it."""
    assert allows(Duty.KASIR, Action.VIEW_LAPORAN)
    assert not allows(Duty.KASIR, Action.VIEW_SATUSEHAT_LOG)
    for duty in (Duty.DOKTER_UMUM, Duty.PENDAFTARAN_KASIR, Duty.LOGIN_KLINIK, Duty.ADMIN):
        assert allows(duty, Action.VIEW_SATUSEHAT_LOG), duty
    for duty in Duty:
        if allows(duty, Action.VIEW_SATUSEHAT_LOG):
            assert allows(duty, Action.VIEW_RESUME) and allows(duty, Action.VIEW_LAPORAN), duty


def test_revenue_is_read_by_the_cashiers_and_admin_only():
    """Laporan pendapatan: named cashiers and admin; not the clinical staff, not the shared
    desk login, and always with the Laporan menu."""
    readers = {d for d in Duty if allows(d, Action.VIEW_PENDAPATAN)}
    assert readers == {Duty.KASIR, Duty.PENDAFTARAN_KASIR, Duty.ADMIN}
    assert all(allows(d, Action.VIEW_LAPORAN) for d in readers)


def test_clinical_content_is_read_by_clinicians_prescriptions_by_the_pharmacy_too():
    desk = (Duty.PENDAFTARAN, Duty.KASIR, Duty.PENDAFTARAN_KASIR)
    pharmacy = (Duty.APOTEKER, Duty.ASISTEN_APOTEKER)
    for duty in desk:
        assert not allows(duty, Action.VIEW_CLINICAL), duty
        assert not allows(duty, Action.VIEW_PRESCRIPTION), duty
    for duty in pharmacy:
        assert allows(duty, Action.VIEW_PRESCRIPTION) and not allows(duty, Action.VIEW_CLINICAL)
    for duty in (*DOCTOR_DUTIES, Duty.PERAWAT, Duty.BIDAN, Duty.LOGIN_KLINIK, Duty.ADMIN):
        assert allows(duty, Action.VIEW_CLINICAL) and allows(duty, Action.VIEW_PRESCRIPTION)
    assert [d for d in Duty if allows(d, Action.VIEW_SATUSEHAT_BODIES)] == [Duty.ADMIN]
