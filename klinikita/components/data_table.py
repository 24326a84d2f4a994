"""One table for every list page: columns given as data, rows from a state var, a gray
empty-state line in place of the table when there are no rows, and the pager of a state
that mixes in `state/paging.PagedList`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from klinikita.components.tables import pager_controls

# Shown from 1024 px only (hidden on a tablet held upright).
WIDE_ONLY = ["none", "none", "none", "table-cell"]


@dataclass(frozen=True)
class Column:
    """A column: its header and what a row (a dict var) shows in its cell."""

    header: str
    cell: Callable[[rx.Var], Any]
    wide_only: bool = False  # hidden below 1024 px
    props: dict[str, Any] = field(default_factory=dict)  # of each cell (max_width, ...)


def _cell(column: Column, row: rx.Var) -> rx.Component:
    props = dict(column.props)
    if column.wide_only:
        props["display"] = WIDE_ONLY
    return rx.table.cell(column.cell(row), **props)


def _header_cell(column: Column) -> rx.Component:
    return rx.table.column_header_cell(
        column.header, **({"display": WIDE_ONLY} if column.wide_only else {})
    )


def list_pager(state: Any, element_id: str) -> rx.Component:  # noqa: ANN401 (a state class)
    """'Halaman x dari y (n data)' with Sebelumnya/Berikutnya of a PagedList state."""
    return pager_controls(
        state.page_label,
        state.page <= 1,
        state.page >= state.page_count,
        state.prev_page,
        state.next_page,
        element_id,
    )


def data_table(
    rows: rx.Var,
    columns: Sequence[Column],
    *,
    prefix: str,
    empty: str,
    paged: Any = None,  # noqa: ANN401 (the PagedList state whose pager goes under the table)
    table_id: str | None = None,
    row_id: Callable[[rx.Var], rx.Var] | None = None,
    row_props: Callable[[rx.Var], dict[str, Any]] | None = None,
) -> rx.Component:
    """The rows under the columns' headers; ids: `<prefix>-table`, a row `<prefix>-row-<id>`
    (class `<prefix>-row`), `<prefix>-empty` and `<prefix>-pager`, unless `table_id` or
    `row_id` name them otherwise."""

    def _row(row: rx.Var) -> rx.Component:
        return rx.table.row(
            *[_cell(c, row) for c in columns],
            id=row_id(row) if row_id else f"{prefix}-row-" + row["id"],
            class_name=f"{prefix}-row",
            **(row_props(row) if row_props else {}),
        )

    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header_cell(c) for c in columns])),
            rx.table.body(rx.foreach(rows, _row)),
            variant="surface",
            size="2",
            width="100%",
            id=table_id or f"{prefix}-table",
        ),
        width="100%",
        overflow_x="auto",
    )
    shown = rx.cond(
        rows.length() > 0,
        table,
        rx.callout(empty, icon="inbox", color_scheme="gray", width="100%", id=f"{prefix}-empty"),
    )
    if paged is None:
        return shown
    return rx.vstack(shown, list_pager(paged, f"{prefix}-pager"), spacing="3", width="100%")
