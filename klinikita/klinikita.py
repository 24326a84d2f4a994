"""The Reflex app: pages, the exception handler that turns refusals into messages."""

import asyncio
import gc
import logging

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.orm.exc import StaleDataError

import klinikita.models  # noqa: F401  (registers the tables)
from klinikita import routes
from klinikita.pages.employees import employees_page
from klinikita.pages.examination import examination_page
from klinikita.pages.home import home_page
from klinikita.pages.login import login_page
from klinikita.pages.passwords import (
    change_password_page,
    forgot_password_page,
    reset_password_page,
)
from klinikita.pages.patients import kontak_page, patients_page
from klinikita.pages.referensi import referensi_page, rooms_page, units_page
from klinikita.pages.registration import registration_page
from klinikita.pages.reports import audit_page, dashboard_page, laporan_page, sync_log_page
from klinikita.pages.resume import resume_page
from klinikita.pages.settings import settings_page
from klinikita.pages.users import users_page
from klinikita.satusehat_runtime import backend_api, run_outbox_worker
from klinikita.services import icd10
from klinikita.services.errors import ServiceError
from klinikita.settings import get_settings
from klinikita.state import live, page_loads
from klinikita.state.auth import AuthState, LoginState, SessionExpired
from klinikita.state.branch_settings import BranchSettingsState
from klinikita.state.employees import EmployeeState
from klinikita.state.examination import ExaminationState
from klinikita.state.passwords import ChangePasswordState, ForgotPasswordState, ResetPasswordState
from klinikita.state.patients import KontakState, PatientState
from klinikita.state.referensi import RoomState, UnitState
from klinikita.state.registration import RegistrationState
from klinikita.state.reports import AuditReportState, DashboardState, LaporanState, SyncLogState
from klinikita.state.resume import ResumeState
from klinikita.state.user_admin import UserAdminState
from klinikita.web_security import with_security_headers

log = logging.getLogger("klinikita")
CHANGED_MEANWHILE = "Data ini baru saja diubah oleh pengguna lain. Muat ulang, lalu coba lagi."


def handle_backend_exception(exception: Exception) -> list[EventSpec]:
    """Refusals from the rules become a plain message; anything else is logged."""
    if isinstance(exception, SessionExpired):
        return [rx.toast.warning(exception.message), rx.redirect(routes.LOGIN)]
    if isinstance(exception, ServiceError):
        return [rx.toast.error(exception.message, id="service-error")]
    if isinstance(exception, StaleDataError):
        # A write raced a form's save of the same record and was rolled back whole.
        return [rx.toast.error(CHANGED_MEANWHILE, id="service-error")]
    log.exception("Unhandled error in an event handler", exc_info=exception)
    return [rx.toast.error("Terjadi kesalahan di server. Coba lagi; bila berulang, hubungi admin.")]


app = rx.App(
    backend_exception_handler=handle_backend_exception,
    # The simulator's routes (when mounted), then the security headers around everything.
    api_transformer=[*backend_api(), with_security_headers],
    stylesheets=["/print.css"],
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.register_lifespan_task(run_outbox_worker)


async def warm_up() -> None:
    """Ready before the first clicks: the ICD-10 index is built, and what the app built at
    start (compiled pages, tables, the index) is moved out of the garbage collector's way,
    so a full collection does not stall every tab's events."""
    await asyncio.to_thread(icd10.warm_up)
    gc.collect()
    gc.freeze()


app.register_lifespan_task(warm_up)
live.bind_app(app)
_SETTINGS = get_settings()
if _SETTINGS.redis_url:
    # Several backend workers share the tabs' states in Redis: live boards cross over too.
    app.register_lifespan_task(
        live.relay_boards, redis_url=_SETTINGS.redis_url, db_url=_SETTINGS.db_url
    )

_LOGGED_IN = AuthState.check_login
# (page, route, title, on_load): protected pages check the login first, then load their data.
_PAGES = (
    (login_page, routes.LOGIN, "Masuk", LoginState.check_already_logged_in),
    (forgot_password_page, routes.LUPA_SANDI, "Lupa kata sandi", ForgotPasswordState.open),
    (reset_password_page, routes.RESET_SANDI, "Atur ulang kata sandi", ResetPasswordState.load),
    (home_page, routes.BERANDA, "Beranda", _LOGGED_IN),
    (
        registration_page,
        routes.PENDAFTARAN,
        "Pendaftaran",
        [_LOGGED_IN, PatientState.cancel, RegistrationState.load],
    ),
    (settings_page, routes.PENGATURAN, "Pengaturan", [_LOGGED_IN, BranchSettingsState.load]),
    (users_page, routes.PENGATURAN_PENGGUNA, "Pengguna", [_LOGGED_IN, UserAdminState.load]),
    (referensi_page, routes.REFERENSI, "Referensi", UnitState.open_referensi),
    (units_page, routes.REFERENSI_UNIT, "Unit layanan", [_LOGGED_IN, UnitState.load]),
    (rooms_page, routes.REFERENSI_RUANGAN, "Ruangan", [_LOGGED_IN, RoomState.load]),
    (kontak_page, routes.KONTAK, "Kontak", [_LOGGED_IN, KontakState.open_default]),
    (employees_page, routes.KONTAK_KARYAWAN, "Karyawan", [_LOGGED_IN, EmployeeState.load]),
    (patients_page, routes.KONTAK_PASIEN, "Pasien", [_LOGGED_IN, PatientState.load]),
    (examination_page, routes.PEMERIKSAAN, "Pemeriksaan", [_LOGGED_IN, ExaminationState.load]),
    (resume_page, routes.RESUME, "Resume", [_LOGGED_IN, ResumeState.load]),
    (laporan_page, routes.LAPORAN, "Laporan", [_LOGGED_IN, LaporanState.open_default]),
    (
        audit_page,
        routes.LAPORAN_AKTIVITAS,
        "Laporan aktivitas",
        [_LOGGED_IN, AuditReportState.load],
    ),
    (
        sync_log_page,
        routes.LAPORAN_SATUSEHAT,
        "Log server SATUSEHAT",
        [_LOGGED_IN, SyncLogState.load],
    ),
    (
        dashboard_page,
        routes.LAPORAN_DASHBOARD,
        "Dashboard SATUSEHAT",
        [_LOGGED_IN, DashboardState.load],
    ),
    (
        change_password_page,
        routes.GANTI_SANDI,
        "Ganti kata sandi",
        [_LOGGED_IN, ChangePasswordState.open],
    ),
)
for _page, _route, _title, _on_load in _PAGES:
    app.add_page(_page, route=_route, title=f"{_title} | Klinikita", on_load=_on_load)
    page_loads.register(_route, _on_load)
