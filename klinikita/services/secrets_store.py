"""Encryption at rest for SATUSEHAT secrets (Fernet from `cryptography`)."""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from klinikita.private_files import private_folder
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


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "Secret Key tidak dapat dibuka dengan kunci enkripsi server ini; masukkan ulang."
        ) from exc
