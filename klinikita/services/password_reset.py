"""Forgotten password: one-time reset links sent by email.

Only the SHA-256 of a link's token is stored. A link expires (default 30 minutes), works
once, and asking again invalidates the older links of that user. The reply to a request
never tells whether the username or address exists: the caller shows one message, and
this module does the same work either way (a token is made and an audit row written);
the mail itself is sent afterwards, outside the transaction and off the reply's path.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, or_
from sqlmodel import Session, select

from klinikita import routes
from klinikita.integrations.mail import OutgoingMail
from klinikita.models import PasswordResetToken, User
from klinikita.services import audit, rate_limits
from klinikita.services.accounts import end_login_sessions, set_password
from klinikita.services.errors import ServiceError
from klinikita.settings import Settings, get_settings

# The one reply to every request, whether or not the account exists.
REQUEST_REPLY = (
    "Jika nama pengguna atau email itu terdaftar dan akunnya aktif, tautan untuk mengatur "
    "ulang kata sandi telah dikirim ke email akun tersebut. Periksa kotak masuk (dan folder "
    "spam) dalam beberapa menit."
)
# The reply when no mail server is configured: no link can reach anyone.
NO_MAIL_REPLY = (
    "Pengiriman email belum diatur di Klinikita ini, jadi tautan atur ulang kata sandi tidak "
    "dapat dikirim. Hubungi admin klinik: admin dapat membuatkan kata sandi sementara untuk "
    "Anda di Pengaturan > Pengguna."
)
# What the admin's user page says then.
NO_MAIL_ADMIN_WARNING = (
    "Server email belum diatur (KLINIKITA_SMTP_HOST), sehingga email atur ulang kata sandi "
    "tidak dapat dikirim. Pengguna yang lupa kata sandi harus menghubungi admin; atur ulang "
    "kata sandinya dari halaman ini."
)
INVALID_LINK = (
    "Tautan atur ulang kata sandi ini tidak berlaku lagi: sudah dipakai, sudah kedaluwarsa, "
    "atau tidak lengkap. Minta tautan baru dari halaman Lupa kata sandi."
)


_log = logging.getLogger(__name__)


class InvalidResetLink(ServiceError):
    def __init__(self) -> None:
        super().__init__(INVALID_LINK)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def reset_link(token: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return f"{settings.public_url}{routes.RESET_SANDI}?{urlencode({'token': token})}"


def reset_mail(user: User, token: str, settings: Settings | None = None) -> OutgoingMail:
    settings = settings or get_settings()
    minutes = settings.password_reset_minutes
    body = (
        f"Yth. {user.full_name},\n\n"
        "Kami menerima permintaan untuk mengatur ulang kata sandi akun Klinikita Anda "
        f"(nama pengguna: {user.username}).\n\n"
        "Buka tautan berikut untuk membuat kata sandi baru:\n\n"
        f"{reset_link(token, settings)}\n\n"
        f"Tautan ini berlaku {minutes} menit dan hanya dapat dipakai satu kali. Setelah kata "
        "sandi diganti, semua sesi login akun ini akan diakhiri.\n\n"
        "Jika Anda tidak meminta pengaturan ulang, abaikan email ini; kata sandi Anda tidak "
        "berubah. Bila Anda curiga ada yang mencoba masuk ke akun Anda, hubungi admin klinik.\n\n"
        "Salam,\nKlinikita\n"
    )
    return OutgoingMail(to=user.email or "", subject="Atur ulang kata sandi Klinikita", body=body)


def mail_configured(settings: Settings | None = None) -> bool:
    """Whether reset links can be mailed at all (a mail server is set)."""
    return bool((settings or get_settings()).smtp_host)


def _find_account(session: Session, identifier: str) -> User | None:
    key = identifier.strip().lower()
    if not key:
        return None
    return session.exec(select(User).where(or_(User.username == key, User.email == key))).first()


def request_reset(
    session: Session,
    identifier: str,
    *,
    client_address: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> OutgoingMail | None:
    """Make a reset link for the account named by `identifier` (username or email).

    Returns the mail to send after the caller commits, or None when no mail server is
    configured (nothing is made; callers show NO_MAIL_REPLY), when there is no active
    account with an email behind `identifier`, or when the request is over a limit (per
    client address, and per account: `rate_limits`; then no link is made and the links
    sent before still work). With mail configured, callers show REQUEST_REPLY either way."""
    settings = settings or get_settings()
    if not mail_configured(settings):
        return None  # no link that could never arrive; the page says to ask the admin
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    token_hash = _hash(token)
    user = _find_account(session, identifier)
    account = f"user:{user.id}" if user is not None else f"typed:{identifier.strip().lower()}"
    over = rate_limits.reset_request_refusal(account, client_address)
    if over is not None:
        # Only a log line: a flood of requests must not become a flood of audit rows.
        _log.warning(
            "Password reset request over the per-%s limit: no mail sent (address %s)",
            over,
            client_address,
        )
        return None
    if user is None or not user.is_active or not user.email:
        audit.record(session, None, "reset_request", "user", "", after={"matched": False})
        return None
    # Asking again invalidates the links sent before.
    session.exec(
        delete(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at == None,  # noqa: E711
        )
    )
    row = PasswordResetToken(
        user_id=user.id,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.password_reset_minutes),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        None,
        "reset_request",
        "user",
        user.id,
        after={"matched": True, "expires_at": row.expires_at.isoformat()},
    )
    return reset_mail(user, token, settings)


def _usable_token(session: Session, token: str, now: datetime) -> PasswordResetToken | None:
    if not token:
        return None
    row = session.exec(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash(token))
    ).first()
    if row is None or row.used_at is not None or _aware(row.expires_at) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row


def link_is_valid(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Whether the reset page should show its form for this link."""
    return _usable_token(session, token, now or datetime.now(UTC)) is not None


def reset_with_link(
    session: Session, token: str, new_password: str, *, now: datetime | None = None
) -> User:
    """Set a new password through a reset link (policy applies) and use the link up.

    Every open login of the account ends. A password that breaks the policy raises
    ValidationFailed at `new_password` and leaves the link usable."""
    now = now or datetime.now(UTC)
    row = _usable_token(session, token, now)
    if row is None:
        raise InvalidResetLink()
    user = session.get(User, row.user_id)
    set_password(session, user, new_password, field_name="new_password")
    row.used_at = now
    session.add(row)
    ended = end_login_sessions(session, user.id, now=now)
    audit.record(
        session,
        None,
        "reset_password_link",
        "user",
        user.id,
        after={"password_changed_at": now.isoformat(), "sessions_ended": ended},
    )
    return user
