import os
import stat

import pytest

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


def test_a_sealed_secret_opens_only_for_the_destination_it_was_saved_for():
    token = encrypt_secret("rahasia-satusehat", bound_to="custom\nhttps://a.id/o\nhttps://a.id/f")
    assert "rahasia" not in token
    assert decrypt_secret(token, bound_to="custom\nhttps://a.id/o\nhttps://a.id/f") == (
        "rahasia-satusehat"
    )
    with pytest.raises(ValueError, match="alamat server yang lain"):
        decrypt_secret(token, bound_to="custom\nhttp://127.0.0.1:9/o\nhttps://a.id/f")
    with pytest.raises(ValueError, match="alamat server yang lain"):
        decrypt_secret(token, bound_to="sandbox")
    assert decrypt_secret(token) == "rahasia-satusehat"  # only checks that it opens
    # A secret stored without a destination (before sealing existed) opens as it is.
    plain = encrypt_secret('{"secret": "x"}')
    assert decrypt_secret(plain, bound_to="sandbox") == '{"secret": "x"}'
