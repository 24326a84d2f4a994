"""Indonesian administrative regions (Kemendagri): province, city/regency, district, village."""

from __future__ import annotations

from sqlalchemy import SmallInteger, String
from sqlmodel import Field, SQLModel


class Region(SQLModel, table=True):
    """One region; `code` keeps the dots of the official list (e.g. 31.71.01.1001)."""

    code: str = Field(sa_type=String(13), primary_key=True)
    name: str = Field(sa_type=String(100))
    level: int = Field(sa_type=SmallInteger)  # 1 province, 2 city, 3 district, 4 village
    parent_code: str | None = Field(default=None, sa_type=String(10), index=True)
