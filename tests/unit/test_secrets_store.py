import os
import stat

from klinikita.services.secrets_store import decrypt_secret, encrypt_secret
from klinikita.settings import get_settings


def test_secret_is_encrypted_at_rest_and_comes_back():
    token = encrypt_secret("rahasia-satusehat")
    assert "rahasia" not in token
    assert decrypt_secret(token) == "rahasia-satusehat"
    # Fernet tokens carry a random IV: two encryptions differ.
    assert encrypt_secret("rahasia-satusehat") != token
    assert encrypt_secret("") == "" and decrypt_secret("") == ""


def test_key_file_is_created_readable_only_by_its_owner():
    encrypt_secret("x")
    mode = stat.S_IMODE(os.stat(get_settings().secret_key_file).st_mode)
    assert mode == 0o600
