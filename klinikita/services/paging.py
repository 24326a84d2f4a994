"""Server-side paging: one page of rows and the total, never the whole table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

T = TypeVar("T")

PAGE_SIZE = 20


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    page: int
    page_size: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


def paginate(session: Session, stmt, page: int, page_size: int = PAGE_SIZE) -> Page:  # noqa: ANN001
    """Run `stmt` (an ordered select of one model) for `page` (1-based, clamped)."""
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    rows = list(session.exec(stmt.offset((page - 1) * page_size).limit(page_size)).all())
    return Page(rows, page, page_size, total)
