"""The branch's letterhead (kop surat): name, address, phone, licence number and logo.

The logo is kept in the database (table branch_logo), checked when uploaded: PNG or JPEG
only (by its content, not its name, read by Pillow), at most 512 KB. It never gets a URL of
its own: print pages and PDFs embed it as a data URI, so only someone who may print the
branch's documents sees it.
"""

from __future__ import annotations

import base64
import io
from dataclasses import asdict, dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from klinikita.models import Branch, BranchLogo
from klinikita.models.base import utcnow
from klinikita.services import audit
from klinikita.services.branches import managed_branch
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action, require

LOGO_MAX_BYTES = 512 * 1024
# Pillow's format name -> the MIME type stored and put in the data URI.
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_TOO_BIG = "Logo maksimal 512 KB. Perkecil gambarnya lalu unggah lagi."
LOGO_WRONG_TYPE = "Logo harus berupa gambar PNG atau JPEG."
LOGO_TOO_LARGE_PIXELS = 4000  # wider or taller than this is no letterhead logo


@dataclass(frozen=True)
class Letterhead:
    """What the top of every printed document shows. `logo` is a data URI or ""."""

    name: str
    address: str
    phone: str
    license_number: str
    facility_type: str = ""
    logo: str = ""

    def texts(self) -> dict[str, str]:
        """The text part, as stored with an issued document (the logo is not copied)."""
        out = asdict(self)
        out.pop("logo")
        return out


def logo_data_uri(session: Session, branch_id: int) -> str:
    """The branch's logo as a data URI, or "" when it has none."""
    logo = session.get(BranchLogo, branch_id)
    if logo is None:
        return ""
    return f"data:{logo.mime};base64,{base64.b64encode(logo.data).decode('ascii')}"


def letterhead_for(session: Session, branch_id: int) -> Letterhead:
    """The branch's current letterhead, logo included."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        return Letterhead("", "", "", "")
    return Letterhead(
        name=branch.name,
        address=branch.address,
        phone=branch.phone,
        license_number=branch.license_number,
        facility_type=branch.facility_type,
        logo=logo_data_uri(session, branch_id),
    )


def logo_problem(data: bytes) -> str | None:
    """Why `data` cannot be a logo, in words for the admin, or None (with its MIME type
    readable by `logo_mime`)."""
    if len(data) > LOGO_MAX_BYTES:
        return LOGO_TOO_BIG
    if not data:
        return LOGO_WRONG_TYPE
    return None if logo_mime(data) else LOGO_WRONG_TYPE


def logo_mime(data: bytes) -> str | None:
    """The MIME type of a PNG or JPEG image that Pillow can read whole, else None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if width > LOGO_TOO_LARGE_PIXELS or height > LOGO_TOO_LARGE_PIXELS:
        return None
    return LOGO_FORMATS.get(fmt or "")


def save_logo(session: Session, actor: audit.Actor, branch_id: int, data: bytes) -> BranchLogo:
    """Store `data` as the logo of a branch granted to `actor` (ValidationFailed on the
    `logo` field when it is no PNG/JPEG of at most 512 KB)."""
    require(actor.duty, Action.BRANCH_SETTINGS)
    managed_branch(session, actor, branch_id)
    problem = logo_problem(data)
    if problem:
        raise ValidationFailed({"logo": problem})
    mime = logo_mime(data) or ""
    logo = session.get(BranchLogo, branch_id)
    before = None if logo is None else {"mime": logo.mime, "bytes": len(logo.data)}
    if logo is None:
        logo = BranchLogo(branch_id=branch_id, mime=mime, data=data)
        session.add(logo)
    else:
        logo.mime, logo.data, logo.updated_at = mime, data, utcnow()
    audit.record(
        session,
        actor,
        "update",
        "branch_logo",
        branch_id,
        before=before,
        after={"mime": mime, "bytes": len(data)},
        branch_id=branch_id,
    )
    return logo


def remove_logo(session: Session, actor: audit.Actor, branch_id: int) -> None:
    """Take the logo off a branch granted to `actor` (nothing to do when it has none)."""
    require(actor.duty, Action.BRANCH_SETTINGS)
    managed_branch(session, actor, branch_id)
    logo = session.get(BranchLogo, branch_id)
    if logo is None:
        return
    before = {"mime": logo.mime, "bytes": len(logo.data)}
    session.delete(logo)
    audit.record(
        session, actor, "delete", "branch_logo", branch_id, before=before, branch_id=branch_id
    )
