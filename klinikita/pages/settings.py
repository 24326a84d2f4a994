"""Pengaturan: branch settings with the SATUSEHAT connection and readiness (admin)."""

import reflex as rx

from klinikita import routes
from klinikita.components.coordinates import coordinate_fields
from klinikita.components.data_table import Column, data_table
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.sync_badge import error_detail
from klinikita.components.tables import subnav
from klinikita.integrations.satusehat.config import ENVIRONMENT_LABELS
from klinikita.models.enums import FACILITY_LABELS, BranchTimeZone, SatusehatEnvironment
from klinikita.services.branches import SECRET_SAVED_MASK
from klinikita.state.branch_settings import SECRET_FIELD
from klinikita.state.branch_settings import BranchSettingsState as S
from klinikita.state.master_list import STALE_ERROR

_FACILITY_OPTIONS = [(f.value, label) for f, label in FACILITY_LABELS.items()]
_TZ_OPTIONS = [(z.value, z.name) for z in BranchTimeZone]
_ENV_OPTIONS = [(e.value, label) for e, label in ENVIRONMENT_LABELS.items()]


def _select(field: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", id=f"branch-{field}"),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in options]),
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        size="3",
    )


def _text_input(field: str, placeholder: str = "") -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        id=f"branch-{field}",
        name=field,
        placeholder=placeholder,
        size="3",
        width="100%",
    )


def _two_columns(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children,
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


LOGO_UPLOAD_ID = "branch-logo-upload"


def _logo_field() -> rx.Component:
    """The letterhead logo: PNG or JPEG, at most 512 KB, stored at once (not with Simpan)."""
    return labelled(
        "Logo kop surat (PNG/JPEG, maks. 512 KB)",
        rx.hstack(
            rx.cond(
                S.logo_preview != "",
                rx.image(
                    src=S.logo_preview,
                    alt="Logo cabang",
                    max_height="56px",
                    max_width="120px",
                    id="branch-logo-preview",
                ),
                rx.text("Belum ada logo.", size="2", color=rx.color("gray", 11)),
            ),
            rx.upload(
                rx.button("Pilih gambar", type="button", variant="soft", size="3"),
                id=LOGO_UPLOAD_ID,
                accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                max_files=1,
                no_drag=True,
                border="none",
                padding="0",
            ),
            rx.text(rx.selected_files(LOGO_UPLOAD_ID).join(", "), size="2"),
            rx.button(
                "Unggah logo",
                type="button",
                on_click=S.upload_logo(rx.upload_files(upload_id=LOGO_UPLOAD_ID)),
                size="3",
                id="branch-logo-save",
            ),
            rx.cond(
                S.logo_preview != "",
                rx.button(
                    "Hapus logo",
                    type="button",
                    on_click=S.remove_logo,
                    variant="soft",
                    color_scheme="red",
                    size="3",
                    id="branch-logo-remove",
                ),
            ),
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        field_error(S.errors, "logo"),
    )


def _general_fields() -> rx.Component:
    return rx.vstack(
        labelled("Nama cabang", _text_input("name"), field_error(S.errors, "name")),
        _two_columns(
            labelled(
                "Jenis fasilitas",
                _select("facility_type", _FACILITY_OPTIONS),
                field_error(S.errors, "facility_type"),
            ),
            labelled(
                "Zona waktu",
                _select("timezone", _TZ_OPTIONS),
                field_error(S.errors, "timezone"),
            ),
        ),
        labelled("Alamat", _text_input("address"), field_error(S.errors, "address")),
        labelled("Telepon", _text_input("phone"), field_error(S.errors, "phone")),
        labelled(
            "No. izin klinik / SIP praktik (dicetak di kop surat)",
            _text_input("license_number"),
            field_error(S.errors, "license_number"),
        ),
        rx.cond(S.editing_id != 0, _logo_field()),
        labelled(
            "Format No. RM ({seq} nomor urut, {year} tahun; contoh {seq:06d})",
            _text_input("mrn_format"),
            field_error(S.errors, "mrn_format"),
        ),
        coordinate_fields(S, "branch", "Koordinat fasilitas (wajib untuk lokasi SATUSEHAT)"),
        spacing="3",
        width="100%",
    )


def _secret_hint() -> rx.Component:
    """Under the new-secret input: what happens to the stored secret when this is saved."""
    keeps = rx.hstack(
        rx.text(
            "Secret Key lama tetap dipakai sampai yang baru disimpan.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.button(
            "Batal ganti",
            type="button",
            on_click=S.cancel_replace_secret,
            variant="ghost",
            size="3",
            id="branch-secret-cancel",
        ),
        align="center",
        wrap="wrap",
        spacing="3",
    )
    moved = rx.callout(
        "Lingkungan atau alamat server berubah: Secret Key yang tersimpan tidak akan dikirim "
        "ke alamat yang baru. Ketik Secret Key untuk alamat yang baru sebelum menyimpan.",
        icon="key-round",
        color_scheme="amber",
        size="1",
        width="100%",
        id="branch-secret-moved",
    )
    return rx.cond(S.destination_changed, moved, keeps)


def _secret_field() -> rx.Component:
    """Write-only: a stored secret shows as a mask; a new one goes only in the submit payload.
    New server addresses ask for the secret again (the stored one never follows them)."""
    new_secret = rx.vstack(
        rx.input(
            type="password",
            name=SECRET_FIELD,
            id="branch-ss_secret",
            placeholder=rx.cond(S.secret_saved, "Secret Key baru", "Secret Key dari SATUSEHAT"),
            auto_complete="new-password",
            size="3",
            width="100%",
        ),
        rx.cond(S.secret_saved, _secret_hint()),
        spacing="2",
        width="100%",
    )
    saved = rx.hstack(
        rx.text(SECRET_SAVED_MASK, size="3", id="branch-secret-saved"),
        rx.button(
            "Ganti Secret Key",
            type="button",
            on_click=S.start_replace_secret,
            variant="soft",
            size="3",
            id="branch-secret-replace",
        ),
        align="center",
        spacing="3",
        wrap="wrap",
    )
    return labelled(
        "Secret Key",
        rx.cond(S.secret_saved & ~S.replacing_secret & ~S.destination_changed, saved, new_secret),
        field_error(S.errors, SECRET_FIELD),
    )


def _connection_result(branch_id: rx.Var) -> rx.Component:
    return rx.cond(
        (S.conn_branch_id == branch_id) & (S.conn_message != "") & ~S.conn_testing,
        rx.callout(
            rx.vstack(rx.text(S.conn_message), error_detail(S.conn_detail), spacing="1"),
            icon=rx.cond(S.conn_ok, "circle-check", "circle-alert"),
            color_scheme=rx.cond(S.conn_ok, "green", "red"),
            width="100%",
            class_name="connection-result",
        ),
    )


def _connection_button(branch_id: rx.Var, element_id: rx.Var | str) -> rx.Component:
    return rx.button(
        rx.icon("plug-zap", size=16),
        "Tes koneksi",
        type="button",
        on_click=S.check_connection(branch_id),
        loading=S.conn_testing & (S.conn_branch_id == branch_id),
        disabled=S.conn_testing,
        variant="outline",
        size="3",
        id=element_id,
    )


def _satusehat_fields() -> rx.Component:
    custom = S.form["ss_environment"] == SatusehatEnvironment.CUSTOM.value
    return rx.vstack(
        rx.heading("Integrasi SATUSEHAT", size="3"),
        labelled(
            "Lingkungan",
            _select("ss_environment", _ENV_OPTIONS),
            field_error(S.errors, "ss_environment"),
        ),
        rx.cond(
            custom,
            _two_columns(
                labelled(
                    "URL autentikasi (OAuth2)",
                    _text_input("ss_auth_url", "https://.../oauth2/v1"),
                    field_error(S.errors, "ss_auth_url"),
                ),
                labelled(
                    "URL FHIR",
                    _text_input("ss_fhir_url", "https://.../fhir-r4/v1"),
                    field_error(S.errors, "ss_fhir_url"),
                ),
            ),
        ),
        _two_columns(
            labelled(
                "Organization ID",
                _text_input("ss_organization_id", "misalnya 10000004"),
                field_error(S.errors, "ss_organization_id"),
            ),
            labelled(
                "Client ID",
                _text_input("ss_client_id"),
                field_error(S.errors, "ss_client_id"),
            ),
        ),
        _secret_field(),
        rx.cond(
            S.editing_id != 0,
            rx.vstack(
                rx.hstack(
                    _connection_button(S.editing_id.to_string(), "branch-test-connection"),
                    rx.text(
                        "Tes memakai pengaturan yang sudah disimpan; simpan dulu bila Anda "
                        "mengubahnya.",
                        size="2",
                        color=rx.color("gray", 11),
                    ),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                _connection_result(S.editing_id.to_string()),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _edit_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(rx.cond(S.creating, "Tambah cabang", "Ubah cabang"), size="4"),
                _general_fields(),
                rx.divider(),
                _satusehat_fields(),
                field_error(S.errors, STALE_ERROR),
                rx.hstack(
                    rx.button("Simpan", type="submit", size="3", id="branch-save"),
                    rx.button(
                        "Batal",
                        type="button",
                        on_click=S.cancel_edit,
                        size="3",
                        variant="soft",
                        color_scheme="gray",
                        id="branch-cancel",
                    ),
                    spacing="3",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
        id="branch-form",
    )


def _readiness_badge(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["key_refused"] == "1",
        rx.badge("Kunci SATUSEHAT ditolak", color_scheme="red", size="2", id="key-refused-badge"),
        rx.cond(
            row["blockers"] == "0",
            rx.badge("Siap", color_scheme="green", size="2"),
            rx.badge(row["blockers"], " kendala", color_scheme="orange", size="2"),
        ),
    )


def _edit_button(row: rx.Var) -> rx.Component:
    return rx.cond(
        S.can_edit,
        rx.button(
            "Ubah",
            on_click=S.start_edit(row["id"]),
            variant="soft",
            size="3",
            id="edit-branch-" + row["id"],
        ),
    )


_COLUMNS = [
    Column("Nama", lambda row: row["name"]),
    Column("Jenis", lambda row: row["facility"]),
    Column("Zona", lambda row: row["timezone"]),
    Column("Telepon", lambda row: row["phone"]),
    Column("SATUSEHAT", _readiness_badge),
    Column("", _edit_button),
]


def _branch_table() -> rx.Component:
    return data_table(S.branches, _COLUMNS, prefix="branch", empty="Belum ada cabang.", paged=S)


def _readiness_line(line: rx.Var, branch_id: rx.Var) -> rx.Component:
    in_form = (line["key"] == "credentials") | (line["key"] == "secret")
    in_form = in_form | (line["key"] == "position")
    fix = rx.cond(
        in_form,
        rx.button(
            "Perbaiki",
            on_click=[S.start_edit(branch_id), rx.scroll_to("branch-form")],
            variant="soft",
            size="3",
        ),
        rx.link(rx.button("Perbaiki", variant="soft", size="3"), href=line["link"]),
    )
    return rx.cond(
        line["branch_id"] == branch_id,
        rx.hstack(
            rx.icon("triangle-alert", size=18, color=rx.color("orange", 10), flex_shrink="0"),
            rx.text(line["message"], size="2", flex="1"),
            rx.cond(S.can_edit, fix),
            align="center",
            spacing="3",
            width="100%",
            class_name="readiness-line",
            id="readiness-" + branch_id + "-" + line["key"],
        ),
    )


def _readiness_card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(row["name"], size="3"),
            rx.cond(
                row["blockers"] == "0",
                rx.callout(
                    "Siap mengirim",
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                    id="ready-" + row["id"],
                ),
                rx.vstack(
                    rx.foreach(S.readiness_lines, lambda line: _readiness_line(line, row["id"])),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.cond(
                S.can_edit,
                _connection_button(row["id"], "test-connection-" + row["id"]),
            ),
            _connection_result(row["id"]),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="readiness-card-" + row["id"],
    )


def _readiness_panels() -> rx.Component:
    return rx.vstack(
        rx.heading("Kesiapan kirim ke SATUSEHAT", size="4"),
        rx.grid(
            rx.foreach(S.branches, _readiness_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _toolbar() -> rx.Component:
    return rx.cond(
        S.can_edit & (S.editing_id == 0) & ~S.creating,
        rx.button(
            rx.icon("plus", size=16),
            "Tambah cabang",
            on_click=S.start_create,
            size="3",
            id="branch-add",
        ),
    )


@page(route=routes.PENGATURAN, title="Pengaturan", shell="Pengaturan", on_load=S.load)
def settings_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.PENGATURAN_TABS),
        rx.heading("Cabang", size="4"),
        _toolbar(),
        rx.cond((S.editing_id != 0) | S.creating, _edit_form()),
        _branch_table(),
        _readiness_panels(),
        spacing="4",
        width="100%",
    )
