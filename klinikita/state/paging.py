"""The pager every list page shares: which page is shown, of how many, and the buttons."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from klinikita.services.paging import PAGE_SIZE, Page


class PagedList(rx.State, mixin=True):
    """Mixin of a page state that shows one server-side page of rows (services/paging.py
    counts and clamps). The state gives `_load_page`, which reads `page` again for whoever
    is behind the tab now (and authorizes that read), and shows what it got with
    `_show_page`. Each state that mixes this in gets its own vars and handlers."""

    page: int = 1
    page_count: int = 1
    total: int = 0
    total_text: str = "0"  # the total as shown: "1000+" where the service caps its count

    page_size: ClassVar[int] = PAGE_SIZE

    def _load_page(self) -> None:
        raise NotImplementedError

    def _show_page(self, got: Page, total_text: str | None = None) -> None:
        """Take the page the service returned (its page number is clamped to the rows);
        `total_text`: the total as the service words it, when it is not a plain count."""
        self.page, self.page_count, self.total = got.page, got.page_count, got.total
        self.total_text = total_text if total_text is not None else str(got.total)

    def _first_page(self) -> None:
        self.page, self.page_count, self.total, self.total_text = 1, 1, 0, "0"

    def _turn_page(self, step: int) -> None:
        """Move `step` pages within the known count and read that page again (also at an
        end: the read is what checks the viewer, and the rows may have changed)."""
        self.page = min(max(1, self.page + step), max(1, self.page_count))
        self._load_page()

    @rx.event
    def next_page(self):
        self._turn_page(1)

    @rx.event
    def prev_page(self):
        self._turn_page(-1)

    @rx.var
    def page_label(self) -> str:
        """'Halaman 2 dari 5 (93 data)'."""
        return f"Halaman {self.page} dari {self.page_count} ({self.total_text} data)"
