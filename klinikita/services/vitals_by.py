"""Who measured a visit's vital signs: the Practitioner its SATUSEHAT Observations name.

That is the employee stored with the vitals when they were saved (the saving user's linked
employee); for vitals saved by a user who had no linked employee then, it is that user's
employee once an admin links one. Vitals with no saving user recorded at all (written by
other means than the Tanda vital form) are named as the visit's doctor's.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import FromClause, Join, Select, func

from klinikita.integrations.satusehat.fhir import filled_vitals
from klinikita.models import Employee, Examination, User

# The employee who measured, and the user who saved, read alongside the examination.
PERFORMER = Employee.__table__.alias("vitals_by")
RECORDER = User.__table__.alias("vitals_user")
RECORDER_COLUMNS = (RECORDER.c.id, RECORDER.c.username, RECORDER.c.full_name)

_Source = TypeVar("_Source", Select, Join)


def join_performer(source: _Source, examination: FromClause) -> _Source:
    """`source` (a statement or join holding `examination`) outer-joined with PERFORMER and
    RECORDER."""
    return source.outerjoin(RECORDER, RECORDER.c.id == examination.c.vitals_by_user_id).outerjoin(
        PERFORMER,
        PERFORMER.c.id == func.coalesce(examination.c.vitals_by_id, RECORDER.c.employee_id),
    )


def unlinked_problems(
    examination: Examination | Any | None, performer: Any | None, recorder: Any | None
) -> list[str]:
    """The vitals were saved by a user (`recorder`: username, full_name) with no employee,
    so nobody can be named as their performer."""
    if performer is not None or recorder is None or not filled_vitals(examination):
        return []
    return [
        f"Tanda vital diukur oleh {recorder.full_name} (pengguna {recorder.username}) yang "
        "tidak terhubung ke data karyawan, jadi tidak ada tenaga kesehatan yang bisa dicatat "
        "sebagai pengukurnya. Hubungkan pengguna itu ke karyawan di Pengaturan > Pengguna."
    ]
