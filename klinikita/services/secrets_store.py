"""Encryption at rest for SATUSEHAT secrets (Fernet from `cryptography`).

A secret may be sealed together with where it may be sent (`bound_to`, e.g. a branch's
server addresses): opening it for any other destination is refused, so changing where a
branch sends its data can never carry the stored secret along.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from klinikita.private_files import private_folder, restrict
from klinikita.settings import get_settings


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    settings = get_settings()
    if settings.secret_key:
        return Fernet(settings.secret_key.encode())
    path = settings.secret_key_file
    if not path.exists():
        private_folder(path.parent)
        # Created once, readable by the owner only; losing it means re-entering the secrets.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


def protect_key_file() -> None:
    """The key file, when the key comes from one, readable by the app's own user only (an
    older install may have left it open to others)."""
    settings = get_settings()
    if not settings.secret_key and settings.secret_key_file.exists():
        restrict(settings.secret_key_file)


SECRET_BOUND_ELSEWHERE = (
    "Secret Key ini disimpan untuk alamat server yang lain; ketik ulang Secret Key untuk "
    "alamat yang sekarang."
)


def encrypt_secret(plain: str, *, bound_to: str = "") -> str:
    """The encrypted secret; with `bound_to`, it opens only for that same destination."""
    if not plain:
        return ""
    payload = json.dumps({"secret": plain, "bound_to": bound_to}) if bound_to else plain
    return _fernet().encrypt(payload.encode()).decode()


def decrypt_secret(token: str, *, bound_to: str | None = None) -> str:
    """The plain secret. A secret sealed for a destination other than `bound_to` raises
    ValueError (in words for the admin); `bound_to=None` only checks that it opens. A
    secret stored without a destination opens for any."""
    if not token:
        return ""
    try:
        text = _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "Secret Key tidak dapat dibuka dengan kunci enkripsi server ini; masukkan ulang."
        ) from exc
    sealed = _sealed(text)
    if sealed is None:
        return text
    secret, destination = sealed
    if bound_to is not None and destination != bound_to:
        raise ValueError(SECRET_BOUND_ELSEWHERE)
    return secret


def _sealed(text: str) -> tuple[str, str] | None:
    """(secret, destination) of a sealed payload; None for a plain secret."""
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"secret", "bound_to"}:
        return None
    return str(data["secret"]), str(data["bound_to"])
