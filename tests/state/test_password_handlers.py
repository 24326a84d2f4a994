"""Password handlers: own change, forgotten password by mail, reset through the link."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from klinikita import routes
from klinikita.integrations import mail
from klinikita.models import AuditLog, LoginSession, User
from klinikita.models.enums import Duty
from klinikita.services import auth, password_reset, rate_limits
from klinikita.services.errors import ServiceError
from klinikita.settings import get_settings
from klinikita.state.auth import SessionExpired, client_address
from klinikita.state.passwords import (
    ChangePasswordState,
    ForgotPasswordState,
    ResetPasswordState,
)
from tests.factories import GOOD_PASSWORD, make_branch, make_user
from tests.state.conftest import logged_in, substate

NEW_PASSWORD = "Baru#Sandi2027"


@pytest.fixture
def clinic(db):
    a = make_branch(db, "Klinik A")
    make_user(db, "sari", branches=[a], main_duty=Duty.PERAWAT, email="sari@klinik.id")
    return a


def _can_log_in(db, username: str, password: str) -> bool:
    try:
        auth.login(db, username, password)
    except auth.LoginRefused:
        return False
    finally:
        db.commit()
    return True


def _open_sessions(db, username: str) -> int:
    rows = db.exec(
        select(LoginSession)
        .join(User, LoginSession.user_id == User.id)
        .where(User.username == username, LoginSession.ended_at == None)  # noqa: E711
    ).all()
    db.commit()
    return len(rows)


def test_change_own_password_needs_the_current_one_and_ends_other_sessions(db, root, clinic):
    auth.login(db, "sari", GOOD_PASSWORD)  # another device
    db.commit()
    state = logged_in(db, root, ChangePasswordState, "sari")
    key = state.form_key
    state.submit(
        {
            "current_password": "Salah#2026",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
    )
    assert state.errors == {"current_password": "Kata sandi saat ini salah."}
    state.submit(
        {
            "current_password": GOOD_PASSWORD,
            "new_password": "lemahsekali",
            "new_password_confirm": "lemahsekali",
        }
    )
    assert "huruf besar" in state.errors["new_password"]
    state.submit(
        {
            "current_password": GOOD_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": "Lain#Sandi2027",
        }
    )
    assert "tidak sama" in state.errors["new_password_confirm"]
    assert _can_log_in(db, "sari", GOOD_PASSWORD)  # nothing changed so far
    state.submit(
        {
            "current_password": GOOD_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
    )
    assert state.errors == {} and state.form_key == key + 1
    # Only this tab's session is left (the login just above is ended as well).
    assert _open_sessions(db, "sari") == 1
    assert _can_log_in(db, "sari", NEW_PASSWORD)
    assert not _can_log_in(db, "sari", GOOD_PASSWORD)


def test_change_password_without_a_login_is_refused(db, root, clinic):
    state = substate(root, ChangePasswordState)
    with pytest.raises(SessionExpired):
        state.submit(
            {
                "current_password": GOOD_PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            }
        )


def test_forgot_password_gives_one_reply_and_mails_only_a_real_account(
    db, root, clinic, mail_server
):
    state = substate(root, ForgotPasswordState)
    state.submit({"identifier": "tidak-ada@klinik.id"})
    mail.wait_for_pending()
    unknown_reply = state.message
    assert state.sent and unknown_reply == password_reset.REQUEST_REPLY
    assert mail_server.messages == []

    state.open()
    state.submit({"identifier": "sari@klinik.id"})
    mail.wait_for_pending()
    assert state.message == unknown_reply and state.error == ""
    assert len(mail_server.messages) == 1
    body = mail_server.messages[0].get_content()
    token = re.search(r"reset-kata-sandi\?token=([A-Za-z0-9_-]+)", body).group(1)
    assert token not in str(root.dict())

    # The link from the mail, opened in the reset page.
    reset = substate(root, ResetPasswordState)
    root.router = RouterData.from_router_data({"asPath": f"{routes.RESET_SANDI}?token={token}"})
    reset.load()
    assert reset.checked and reset.link_ok
    reset.submit({"new_password": "pendek", "new_password_confirm": "pendek"})
    assert "minimal 8" in reset.errors["new_password"] and not reset.done
    reset.submit({"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})
    assert reset.done and reset.errors == {}
    assert _can_log_in(db, "sari", NEW_PASSWORD)
    # Used once: opening it again shows the "no longer valid" message.
    reset.load()
    assert not reset.link_ok
    reset.submit({"new_password": "Lagi#Sandi2028", "new_password_confirm": "Lagi#Sandi2028"})
    assert not reset.link_ok
    assert _can_log_in(db, "sari", NEW_PASSWORD)


def test_empty_request_asks_for_input(db, root, clinic, mail_server):
    state = substate(root, ForgotPasswordState)
    state.submit({"identifier": "  "})
    assert state.error and not state.sent


def test_reset_page_with_a_made_up_token_shows_no_form(db, root, clinic):
    reset = substate(root, ResetPasswordState)
    root.router = RouterData.from_router_data({"asPath": f"{routes.RESET_SANDI}?token=palsu"})
    reset.load()
    assert reset.checked and not reset.link_ok


def _tab_from(root, address: str, path: str = routes.LUPA_SANDI) -> None:
    """The tab's connection comes from `address` (as Reflex fills the router)."""
    root.router = RouterData.from_router_data(
        {
            constants.RouteVar.CLIENT_IP: address,
            constants.RouteVar.HEADERS: {"x-forwarded-for": "203.0.113.9"},
            constants.RouteVar.PATH: path,
        }
    )


def test_the_client_address_is_the_connections_not_a_header_the_client_wrote(db, root):
    _tab_from(root, "10.0.0.7")
    state = substate(root, ForgotPasswordState)
    assert client_address(state) == "10.0.0.7"


def test_reset_requests_from_one_address_are_limited_with_the_same_reply(
    db, root, clinic, mail_server
):
    _tab_from(root, "10.0.0.7")
    state = substate(root, ForgotPasswordState)
    for n in range(rate_limits.RESET_REQUESTS_PER_ADDRESS.amount):
        state.open()
        state.submit({"identifier": f"orang{n}@klinik.id"})
    state.open()
    state.submit({"identifier": "sari@klinik.id"})
    mail.wait_for_pending()
    assert state.sent and state.message == password_reset.REQUEST_REPLY
    assert mail_server.messages == []  # over the limit: nothing sent
    # Another address is not held up.
    _tab_from(root, "10.0.0.8")
    state.open()
    state.submit({"identifier": "sari@klinik.id"})
    mail.wait_for_pending()
    assert state.message == password_reset.REQUEST_REPLY
    assert len(mail_server.messages) == 1


def test_a_wrong_current_password_is_shown_audited_and_limited(db, root, clinic):
    state = logged_in(db, root, ChangePasswordState, "sari")
    wrong = {
        "current_password": "Salah#2026",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    for _ in range(get_settings().login_max_failures):
        state.submit(wrong)
        assert state.errors == {"current_password": "Kata sandi saat ini salah."}
    audited = db.exec(select(AuditLog).where(AuditLog.action == "change_password_failed")).all()
    db.commit()
    assert len(audited) == get_settings().login_max_failures
    state.submit({**wrong, "current_password": GOOD_PASSWORD})
    assert "Terlalu banyak" in state.errors["current_password"]
    assert _can_log_in(db, "sari", GOOD_PASSWORD)  # the password did not change


def test_ganti_kata_sandi_refuses_an_easy_new_password(db, root, clinic):
    state = logged_in(db, root, ChangePasswordState, "sari")
    state.submit(
        {
            "current_password": GOOD_PASSWORD,
            "new_password": "Password1!",
            "new_password_confirm": "Password1!",
        }
    )
    assert "terlalu mudah ditebak" in state.errors["new_password"]
    assert _can_log_in(db, "sari", GOOD_PASSWORD)


# Any JSON the browser could send in place of these forms: only a refusal with a message.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=2000),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=8,
)
_FORMS = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "identifier": _JSON,
            "current_password": _JSON,
            "new_password": _JSON,
            "new_password_confirm": _JSON,
        },
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=_FORMS, duty=_JSON)
def test_login_and_password_forms_take_any_payload_without_a_server_error(
    db, root, clinic, form, duty
):
    rate_limits.reset()
    for state in (
        logged_in(db, root, ChangePasswordState, "sari"),
        substate(root, ForgotPasswordState),
        substate(root, ResetPasswordState),
    ):
        try:
            state.submit(form)
        except ServiceError as refused:
            assert refused.message
    switcher = logged_in(db, root, ChangePasswordState, "sari")
    try:
        switcher.switch_duty(duty)
    except ServiceError as refused:
        assert refused.message
