"""The Reflex app: pages, the exception handler that turns refusals into messages."""

import logging

import reflex as rx
from reflex.event import EventSpec

import klinikita.models  # noqa: F401  (registers the tables)
from klinikita import routes
from klinikita.pages.employees import employees_page
from klinikita.pages.home import home_page
from klinikita.pages.login import login_page
from klinikita.pages.not_available import not_available_page
from klinikita.pages.passwords import (
    change_password_page,
    forgot_password_page,
    reset_password_page,
)
from klinikita.pages.patients import kontak_page, patients_page
from klinikita.pages.referensi import referensi_page, rooms_page, units_page
from klinikita.pages.settings import settings_page
from klinikita.pages.users import users_page
from klinikita.satusehat_runtime import backend_api, run_outbox_worker
from klinikita.services.errors import ServiceError
from klinikita.state.auth import AuthState, LoginState, SessionExpired
from klinikita.state.branch_settings import BranchSettingsState
from klinikita.state.employees import EmployeeState
from klinikita.state.passwords import ChangePasswordState, ForgotPasswordState, ResetPasswordState
from klinikita.state.patients import KontakState, PatientState
from klinikita.state.referensi import RoomState, UnitState
from klinikita.state.user_admin import UserAdminState

log = logging.getLogger("klinikita")


def handle_backend_exception(exception: Exception) -> list[EventSpec]:
    """Refusals from the rules become a plain message; anything else is logged."""
    if isinstance(exception, SessionExpired):
        return [rx.toast.warning(exception.message), rx.redirect(routes.LOGIN)]
    if isinstance(exception, ServiceError):
        return [rx.toast.error(exception.message, id="service-error")]
    log.exception("Unhandled error in an event handler", exc_info=exception)
    return [rx.toast.error("Terjadi kesalahan di server. Coba lagi; bila berulang, hubungi admin.")]


app = rx.App(
    backend_exception_handler=handle_backend_exception,
    api_transformer=backend_api(),
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.register_lifespan_task(run_outbox_worker)

app.add_page(
    login_page,
    route=routes.LOGIN,
    title="Masuk | Klinikita",
    on_load=LoginState.check_already_logged_in,
)
app.add_page(
    home_page, route=routes.BERANDA, title="Beranda | Klinikita", on_load=AuthState.check_login
)
app.add_page(
    settings_page,
    route=routes.PENGATURAN,
    title="Pengaturan | Klinikita",
    on_load=[AuthState.check_login, BranchSettingsState.load],
)
app.add_page(
    referensi_page,
    route=routes.REFERENSI,
    title="Referensi | Klinikita",
    on_load=UnitState.open_referensi,
)
for _page, _route, _title, _state in (
    (units_page, routes.REFERENSI_UNIT, "Unit layanan", UnitState),
    (rooms_page, routes.REFERENSI_RUANGAN, "Ruangan", RoomState),
    (employees_page, routes.KONTAK_KARYAWAN, "Karyawan", EmployeeState),
):
    app.add_page(
        _page,
        route=_route,
        title=f"{_title} | Klinikita",
        on_load=[AuthState.check_login, _state.load],
    )
app.add_page(
    users_page,
    route=routes.PENGATURAN_PENGGUNA,
    title="Pengguna | Klinikita",
    on_load=[AuthState.check_login, UserAdminState.load],
)
app.add_page(
    change_password_page,
    route=routes.GANTI_SANDI,
    title="Ganti kata sandi | Klinikita",
    on_load=[AuthState.check_login, ChangePasswordState.open],
)
app.add_page(
    forgot_password_page,
    route=routes.LUPA_SANDI,
    title="Lupa kata sandi | Klinikita",
    on_load=ForgotPasswordState.open,
)
app.add_page(
    reset_password_page,
    route=routes.RESET_SANDI,
    title="Atur ulang kata sandi | Klinikita",
    on_load=ResetPasswordState.load,
)
app.add_page(
    kontak_page,
    route=routes.KONTAK,
    title="Kontak | Klinikita",
    on_load=[AuthState.check_login, KontakState.open_default],
)
app.add_page(
    patients_page,
    route=routes.KONTAK_PASIEN,
    title="Pasien | Klinikita",
    on_load=[AuthState.check_login, PatientState.load],
)

_NOT_YET = (
    (
        routes.PENDAFTARAN,
        "Pendaftaran",
        "mencari atau menambah pasien, memilih unit, ruangan, "
        "dokter dan penjamin, serta nomor antrean",
    ),
    (
        routes.PEMERIKSAAN,
        "Pemeriksaan",
        "tanda vital, SOAP, diagnosis ICD-10 dan tombol Selesai "
        "yang mengirim kunjungan ke SATUSEHAT",
    ),
    (routes.RESUME, "Resume", "riwayat kunjungan pasien dengan kode encounter SATUSEHAT"),
    (routes.LAPORAN, "Laporan", "laporan aktivitas dan log server SATUSEHAT"),
)
for _route, _title, _what in _NOT_YET:
    app.add_page(
        lambda t=_title, w=_what: not_available_page(t, w),
        route=_route,
        title=f"{_title} | Klinikita",
        on_load=AuthState.check_login,
    )
