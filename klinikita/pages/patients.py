"""Kontak -> Pasien: search, the registration form and the patient list."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import list_pager
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.sync_badge import sync_badge
from klinikita.components.tables import subnav
from klinikita.models.enums import Sex, SyncStatus
from klinikita.services.dates import TYPED_DATE_HINT
from klinikita.services.patients import SEARCH_KIND_LABELS
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.patients import KontakState
from klinikita.state.patients import PatientState as S

KONTAK_TABS = [("Karyawan", routes.KONTAK_KARYAWAN), ("Pasien", routes.KONTAK_PASIEN)]
_GRID = {"columns": rx.breakpoints(initial="1", sm="2"), "spacing": "3", "width": "100%"}
# Columns hidden on narrow screens (tablet portrait): shown from 1024 px.
_WIDE = ["none", "none", "none", "table-cell"]


SEARCH_PAUSE_MS = 300  # search as you type: sent after this pause in typing


def _text(field: str, placeholder: str = "", **props) -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        on_key_down=S.save_on_enter,
        id=f"patient-{field}",
        placeholder=placeholder,
        size="3",
        width="100%",
        **props,
    )


def _warning(field: str) -> rx.Component:
    return rx.cond(
        S.warnings.contains(field),
        rx.text(S.warnings[field], color=rx.color("amber", 11), size="2", id=f"warning-{field}"),
    )


def _flag(field: str, label: str) -> rx.Component:
    return rx.checkbox(
        label,
        checked=S.flags[field],
        on_change=lambda v: S.set_flag(field, v),
        size="3",
        id=f"patient-{field}",
    )


def _region_select(field: str, label: str, options: rx.Var, placeholder: str) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="100%", id=f"patient-{field}"),
            rx.select.content(
                rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))
            ),
            value=S.form[field],
            on_change=lambda v: S.pick_region(field, v),
            disabled=options.length() == 0,
            size="3",
        ),
        field_error(S.errors, field),
    )


def _region_result(row: rx.Var) -> rx.Component:
    return rx.button(
        rx.text(row["label"], size="2", text_align="left", color=rx.color("gray", 12)),
        on_click=S.pick_village(row["code"]),
        variant="surface",
        color_scheme="gray",
        size="3",
        width="100%",
        justify_content="flex-start",
        height="auto",
        min_height="44px",
        padding_y="6px",
        id="region-result-" + row["code"],
    )


def _region_picker() -> rx.Component:
    """Type a kelurahan/desa or kecamatan; picking one fills the four fields below."""
    return labelled(
        "Cari kelurahan/desa",
        rx.vstack(
            rx.input(
                rx.input.slot(rx.icon("map-pin", size=16)),
                value=S.region_term,
                on_change=S.set_region_term,
                on_key_down=S.region_on_enter,
                debounce_timeout=SEARCH_PAUSE_MS,
                placeholder="Ketik nama kelurahan/desa atau kecamatan, mis. cilandak",
                size="3",
                width="100%",
                auto_complete="off",
                id="patient-region-search",
            ),
            rx.cond(
                S.region_results.length() > 0,
                rx.vstack(
                    rx.foreach(S.region_results, _region_result),
                    spacing="1",
                    width="100%",
                    max_height="260px",
                    overflow_y="auto",
                    id="region-results",
                ),
                rx.cond(
                    S.region_term.length() >= 3,
                    rx.text(
                        "Wilayah tidak ditemukan; periksa ejaan atau pilih dari daftar di bawah.",
                        size="2",
                        color=rx.color("gray", 11),
                        id="region-none",
                    ),
                ),
            ),
            rx.cond(
                S.region_label != "",
                rx.text(
                    rx.icon("check", size=14),
                    " ",
                    S.region_label,
                    size="2",
                    color=rx.color("green", 11),
                    id="region-chosen",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        rx.fragment(),
    )


def _similar_callout() -> rx.Component:
    return rx.cond(
        S.similar.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("users")),
            rx.vstack(
                rx.text(
                    "Sudah ada pasien dengan nama dan tanggal lahir yang sama:", weight="medium"
                ),
                rx.foreach(
                    S.similar,
                    lambda m: rx.text(
                        "No. RM ", m["mrn"], " - ", m["name"], " (", m["birth_date"], ")"
                    ),
                ),
                rx.text("Bila memang orang yang berbeda, pilih Tetap simpan.", size="2"),
                rx.button(
                    "Tetap simpan",
                    on_click=S.confirm_save,
                    color_scheme="amber",
                    size="3",
                    id="patient-confirm-save",
                ),
                spacing="2",
            ),
            color_scheme="amber",
            id="patient-similar",
        ),
    )


def _newborn_fields() -> rx.Component:
    """A baby without a NIK: SATUSEHAT creates its record by the mother's NIK (and the KK)."""
    return rx.grid(
        labelled(
            "NIK ibu",
            _text("mother_nik", "16 digit NIK ibu kandung", input_mode="numeric", max_length=16),
            rx.fragment(field_error(S.errors, "mother_nik"), _warning("mother_nik")),
        ),
        labelled(
            "Kembar ke-",
            _text("birth_order", "kosongkan bila bukan kembar", input_mode="numeric", max_length=1),
            field_error(S.errors, "birth_order"),
        ),
        **_GRID,
    )


def patient_form() -> rx.Component:
    """The new/edit patient form (also shown on Pendaftaran for a new patient)."""
    sex_select = rx.select.root(
        rx.select.trigger(placeholder="Pilih", width="100%", id="patient-sex"),
        rx.select.content(*[rx.select.item(s.label, value=s.value) for s in Sex]),
        value=S.form["sex"],
        on_change=lambda v: S.set_field("sex", v),
        size="3",
    )
    no_nik = S.flags["is_foreigner"] | S.flags["no_nik"]
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.editing_id != 0, "Ubah pasien", "Pasien baru"), size="4"),
            rx.grid(
                labelled(
                    "No. RM",
                    rx.input(
                        value=S.mrn_label,
                        read_only=True,
                        size="3",
                        width="100%",
                        id="patient-mrn",
                        variant="soft",
                    ),
                    rx.fragment(),
                ),
                labelled("Nama lengkap", _text("name"), field_error(S.errors, "name")),
                labelled(
                    "NIK",
                    _text("nik", "16 digit", input_mode="numeric", max_length=16),
                    rx.fragment(field_error(S.errors, "nik"), _warning("nik")),
                ),
                labelled(
                    "No. KK",
                    _text("kk_number", "16 digit (bila ada)", input_mode="numeric", max_length=16),
                    field_error(S.errors, "kk_number"),
                ),
                labelled(
                    "No. BPJS",
                    _text(
                        "bpjs_number", "13 digit (bila ada)", input_mode="numeric", max_length=16
                    ),
                    field_error(S.errors, "bpjs_number"),
                ),
                labelled(
                    "Tanggal lahir",
                    _text("birth_date", TYPED_DATE_HINT, max_length=10, auto_complete="off"),
                    field_error(S.errors, "birth_date"),
                ),
                labelled("Jenis kelamin", sex_select, field_error(S.errors, "sex")),
                **_GRID,
            ),
            rx.flex(
                _flag("is_newborn", "Bayi baru lahir (belum punya NIK)"),
                _flag("is_foreigner", "WNA"),
                _flag("no_nik", "Tidak punya NIK"),
                spacing="5",
                wrap="wrap",
            ),
            rx.cond(S.flags["is_newborn"], _newborn_fields()),
            rx.cond(
                no_nik,
                labelled(
                    "Alasan belum/tidak ada NIK",
                    _text("no_nik_reason", "mis. bayi belum dibuatkan KK"),
                    field_error(S.errors, "no_nik_reason"),
                ),
            ),
            _region_picker(),
            rx.grid(
                _region_select("province_code", "Provinsi", S.province_options, "Pilih provinsi"),
                _region_select("city_code", "Kabupaten/Kota", S.city_options, "Pilih kab/kota"),
                _region_select("district_code", "Kecamatan", S.district_options, "Pilih kecamatan"),
                _region_select(
                    "village_code", "Kelurahan/Desa", S.village_options, "Pilih kelurahan/desa"
                ),
                **_GRID,
            ),
            labelled("Alamat (jalan, nomor)", _text("street"), field_error(S.errors, "street")),
            rx.grid(
                labelled(
                    "RT",
                    _text("rt", "001", input_mode="numeric", max_length=3),
                    field_error(S.errors, "rt"),
                ),
                labelled(
                    "RW",
                    _text("rw", "002", input_mode="numeric", max_length=3),
                    field_error(S.errors, "rw"),
                ),
                labelled(
                    "Telepon",
                    _text("phone", "08xx", input_mode="tel"),
                    field_error(S.errors, "phone"),
                ),
                columns=rx.breakpoints(initial="2", sm="3"),
                spacing="3",
                width="100%",
            ),
            _similar_callout(),
            field_error(S.errors, STALE_ERROR),
            rx.hstack(
                rx.button("Simpan", on_click=S.save, size="3", id="patient-save"),
                rx.button(
                    "Batal",
                    on_click=S.cancel,
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    id="patient-cancel",
                ),
                rx.text(
                    "Enter: simpan · Tab: isian berikutnya · Esc: tutup",
                    size="1",
                    color=rx.color("gray", 11),
                    id="patient-keys-hint",
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="patient-form",
    )


def _search_bar() -> rx.Component:
    return rx.flex(
        rx.select.root(
            rx.select.trigger(id="patient-search-kind", min_width="170px"),
            rx.select.content(
                *[
                    rx.select.item(label, value=kind.value)
                    for kind, label in SEARCH_KIND_LABELS.items()
                ]
            ),
            value=S.search_kind,
            on_change=S.set_search_kind,
            size="3",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=S.search_term,
            on_change=S.set_search_term,
            on_key_down=S.search_on_enter,
            debounce_timeout=SEARCH_PAUSE_MS,
            placeholder="Nama, NIK, No. RM, No. BPJS, telepon atau tgl lahir (25-11-1990)",
            size="3",
            flex="1",
            min_width="220px",
            id="patient-search",
        ),
        rx.button("Cari", on_click=S.search, size="3", id="patient-search-button"),
        rx.cond(
            S.can_create,
            rx.button(
                rx.icon("user-plus", size=16),
                "Pasien baru",
                on_click=S.open_create,
                size="3",
                variant="outline",
                id="patient-new",
            ),
        ),
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _ihs_cell(row: rx.Var) -> rx.Component:
    not_found = row["sync_status"] == SyncStatus.NOT_FOUND.value
    return rx.vstack(
        rx.cond(
            row["ihs_number"] != "",
            rx.text(row["ihs_number"], weight="medium", id="ihs-" + row["id"]),
        ),
        # Not found is a state with guidance, not an error: shown in neutral text.
        sync_badge(
            row["sync_status"],
            rx.cond(not_found, "", row["sync_error"]),
            "sync-" + row["id"],
            detail=rx.cond(not_found, "", row["sync_detail"]),
        ),
        rx.cond(
            not_found,
            rx.text(
                row["sync_error"],
                " Pasien tetap bisa dilayani.",
                size="1",
                color=rx.color("gray", 11),
                id="not-found-help-" + row["id"],
            ),
        ),
        spacing="1",
        align="start",
        max_width="260px",
    )


def _actions(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.cond(
            S.can_resend & (row["resendable"] == "1"),
            rx.button(
                "Kirim ulang",
                on_click=S.resend(row["id"]),
                size="3",
                variant="soft",
                color_scheme="orange",
                id="resend-patient-" + row["id"],
            ),
        ),
        rx.cond(
            S.can_edit,
            rx.button(
                "Ubah",
                on_click=S.start_edit(row["id"]),
                size="3",
                variant="soft",
                id="edit-patient-" + row["id"],
            ),
        ),
        rx.cond(
            S.can_delete,
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.button(
                        "Nonaktifkan",
                        size="3",
                        variant="soft",
                        color_scheme="red",
                        id="deactivate-patient-" + row["id"],
                    ),
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Nonaktifkan pasien?"),
                    rx.alert_dialog.description(
                        "Pasien ",
                        row["name"],
                        " (No. RM ",
                        row["mrn"],
                        ") tidak akan muncul lagi di pencarian. Riwayatnya tetap tersimpan.",
                    ),
                    rx.flex(
                        rx.alert_dialog.cancel(
                            rx.button("Batal", variant="soft", color_scheme="gray", size="3")
                        ),
                        rx.alert_dialog.action(
                            rx.button(
                                "Nonaktifkan",
                                color_scheme="red",
                                size="3",
                                on_click=S.deactivate(row["id"]),
                                id="confirm-deactivate-" + row["id"],
                            ),
                        ),
                        spacing="3",
                        justify="end",
                        margin_top="16px",
                    ),
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["mrn"], weight="medium")),
        rx.table.cell(
            rx.vstack(
                rx.text(row["name"], weight="medium"),
                rx.text(row["birth_date"], " · ", row["sex"], size="2", color=rx.color("gray", 11)),
                spacing="0",
            )
        ),
        rx.table.cell(row["nik"]),
        rx.table.cell(row["phone"], display=_WIDE),
        rx.table.cell(_ihs_cell(row)),
        rx.table.cell(_actions(row)),
        id="patient-row-" + row["id"],
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("No. RM"),
                rx.table.column_header_cell("Nama / lahir"),
                rx.table.column_header_cell("NIK"),
                rx.table.column_header_cell("Telepon", display=_WIDE),
                rx.table.column_header_cell("SATUSEHAT (IHS)"),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(S.rows, _row)),
        width="100%",
        variant="surface",
        id="patient-table",
    )


@page(route=routes.KONTAK_PASIEN, title="Pasien", shell="Kontak", on_load=S.load)
def patients_page() -> rx.Component:
    return rx.vstack(
        subnav(KONTAK_TABS),
        _search_bar(),
        rx.cond(
            S.search_problem != "",
            rx.text(
                S.search_problem,
                color=rx.color("amber", 11),
                size="2",
                id="patient-search-problem",
            ),
        ),
        rx.cond(S.form_open, patient_form()),
        rx.cond(
            S.rows.length() > 0,
            _table(),
            rx.callout(
                "Tidak ada pasien yang cocok.",
                icon="search-x",
                color_scheme="gray",
                id="patient-empty",
            ),
        ),
        list_pager(S, "patient-pager"),
        spacing="4",
        width="100%",
    )


@page(route=routes.KONTAK, title="Kontak", shell="Kontak", on_load=KontakState.open_default)
def kontak_page() -> rx.Component:
    """/kontak: the sub-navigation while the browser moves on to Pasien."""
    return rx.vstack(subnav(KONTAK_TABS), rx.spinner(size="3"))
