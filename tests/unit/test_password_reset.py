"""Forgotten password: a reset link by real SMTP, used once, expiring, revealing nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from klinikita.integrations import mail
from klinikita.models import AuditLog, PasswordResetToken
from klinikita.services import auth, password_reset, rate_limits
from klinikita.services.errors import ValidationFailed
from klinikita.settings import get_settings
from tests.factories import GOOD_PASSWORD, make_branch, make_user

NEW_PASSWORD = "Pulih#Sandi2027"
_LINK = re.compile(r"https://rme\.klinik\.test/reset-kata-sandi\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def sari(db):
    branch = make_branch(db)
    return make_user(db, "sari", branches=[branch], email="Sari@Klinik.id")


def _request_and_send(db, identifier: str, address: str = "10.0.0.1") -> mail.OutgoingMail | None:
    outgoing = password_reset.request_reset(db, identifier, client_address=address)
    db.commit()  # the mail goes out only after the transaction
    if outgoing is not None:
        mail.send(outgoing)
    return outgoing


def _token_from(message) -> str:  # noqa: ANN001
    found = _LINK.search(message.get_content())
    assert found, message.get_content()
    return found.group(1)


def test_reset_mail_arrives_and_its_link_sets_a_password_once(db, sari, mail_server):
    old_session = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    _request_and_send(db, "SARI@klinik.id")
    assert len(mail_server.messages) == 1
    message = mail_server.messages[0]
    assert message["To"] == "sari@klinik.id"
    assert message["From"] == "Klinikita Uji <uji@klinikita.test>"
    assert message["Subject"] == "Atur ulang kata sandi Klinikita"
    body = message.get_content()
    assert "Yth. Sari" in body and "berlaku 30 menit" in body and "satu kali" in body
    token = _token_from(message)
    # Only the hash is stored.
    stored = db.exec(select(PasswordResetToken)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64
    assert token not in str([a.after for a in db.exec(select(AuditLog)).all()])

    assert password_reset.link_is_valid(db, token)
    with pytest.raises(ValidationFailed) as err:
        password_reset.reset_with_link(db, token, "lemah")
    assert "huruf besar" in err.value.errors["new_password"]
    db.rollback()
    assert password_reset.link_is_valid(db, token)  # a refused password keeps the link

    password_reset.reset_with_link(db, token, NEW_PASSWORD)
    db.commit()
    assert auth.resolve(db, old_session) is None  # every login of the account ended
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"
    db.commit()
    with pytest.raises(auth.LoginRefused):
        auth.login(db, "sari", GOOD_PASSWORD)
    assert not password_reset.link_is_valid(db, token)
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.reset_with_link(db, token, "Lagi#Sandi2028")
    db.rollback()
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"


def test_username_works_too_and_a_new_request_invalidates_the_older_link(db, sari, mail_server):
    _request_and_send(db, "sari")
    _request_and_send(db, "sari@klinik.id")
    first, second = (_token_from(m) for m in mail_server.messages)
    assert first != second
    assert not password_reset.link_is_valid(db, first)
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.reset_with_link(db, first, NEW_PASSWORD)
    password_reset.reset_with_link(db, second, NEW_PASSWORD)
    db.commit()
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"


def test_an_expired_link_is_refused(db, sari, mail_server):
    _request_and_send(db, "sari")
    token = _token_from(mail_server.messages[0])
    later = datetime.now(UTC) + timedelta(minutes=get_settings().password_reset_minutes, seconds=1)
    assert not password_reset.link_is_valid(db, token, now=later)
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.reset_with_link(db, token, NEW_PASSWORD, now=later)
    db.rollback()
    assert auth.login(db, "sari", GOOD_PASSWORD).actor.username == "sari"


def test_an_unknown_address_sends_no_mail_but_leaves_the_same_trace(db, sari, mail_server):
    assert _request_and_send(db, "siapa@klinik.id") is None
    assert _request_and_send(db, "") is None
    assert mail_server.messages == []
    assert db.exec(select(PasswordResetToken)).all() == []
    rows = db.exec(select(AuditLog).where(AuditLog.action == "reset_request")).all()
    assert [r.after for r in rows] == [{"matched": False}, {"matched": False}]


def test_an_inactive_account_or_one_without_email_gets_no_mail(db, sari, mail_server):
    # Made with an email, which is then gone (an account from before mail was set up).
    budi = make_user(db, "budi", branches=[make_branch(db, "B")], email="budi@klinik.test")
    budi.email = None
    db.add(budi)
    sari.is_active = False
    db.add(sari)
    db.commit()
    assert _request_and_send(db, "sari") is None
    assert _request_and_send(db, "budi") is None
    assert mail_server.messages == []


def test_a_link_of_a_user_deactivated_since_is_refused(db, sari, mail_server):
    _request_and_send(db, "sari")
    token = _token_from(mail_server.messages[0])
    sari.is_active = False
    db.add(sari)
    db.commit()
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.reset_with_link(db, token, NEW_PASSWORD)


def test_requests_for_one_account_are_limited_and_get_no_mail_beyond(db, sari, mail_server, caplog):
    allowed = rate_limits.RESET_REQUESTS_PER_ACCOUNT.amount
    for n in range(allowed):  # by name or by email, from anywhere: one account
        assert _request_and_send(db, ("sari", "sari@klinik.id")[n % 2], f"10.0.{n}.1")
    last_link = _token_from(mail_server.messages[-1])
    with caplog.at_level("WARNING", logger="klinikita.services.password_reset"):
        assert _request_and_send(db, "SARI@klinik.id", "10.0.99.1") is None
    assert len(mail_server.messages) == allowed
    assert password_reset.link_is_valid(db, last_link)  # the last link sent still works
    # What the app logged (the test's own SMTP server logs the recipient, as servers do).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("klinikita"))
    assert "per-account limit: no mail sent" in ours
    assert "sari" not in ours.lower() and last_link not in ours


def test_requests_from_one_address_are_limited_whatever_the_account(db, sari, mail_server):
    allowed = rate_limits.RESET_REQUESTS_PER_ADDRESS.amount
    for n in range(allowed):
        assert _request_and_send(db, f"orang{n}@klinik.id", "10.0.0.1") is None
    assert _request_and_send(db, "sari", "10.0.0.1") is None
    assert mail_server.messages == []
    assert _request_and_send(db, "sari", "10.0.0.2") is not None
    assert len(mail_server.messages) == 1


def test_a_reset_link_sets_only_a_strong_password(db, sari, mail_server):
    _request_and_send(db, "sari")
    token = _token_from(mail_server.messages[0])
    for weak, reason in (("Password1!", "terlalu mudah"), ("Baru#Sari2027", "nama pengguna")):
        with pytest.raises(ValidationFailed) as err:
            password_reset.reset_with_link(db, token, weak)
        assert reason in err.value.errors["new_password"]
        db.rollback()
    assert password_reset.link_is_valid(db, token)


def test_mail_failure_is_logged_not_raised_by_the_background_sender(monkeypatch, caplog):
    from tests.support.smtp import free_port

    monkeypatch.setenv("KLINIKITA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KLINIKITA_SMTP_PORT", str(free_port()))  # nobody listens there
    get_settings.cache_clear()
    try:
        with caplog.at_level("ERROR", logger="klinikita.mail"):
            mail.send_later(mail.OutgoingMail("x@klinik.id", "s", "b"), "uji").result(timeout=30)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "Mail not sent (uji)" in caplog.text
