"""How often logins, password reset requests and password changes may be tried.

The counts live in `limits`' storage: this process's memory, or Redis when REFLEX_REDIS_URL
is set, so that every backend process counts together. Every limit is a moving window.

What is counted is keyed by what was typed (a username, an email) and by the client's
address, never by whether an account exists: a name that nobody has is slowed down exactly
like a real one, so the answers tell nobody which accounts exist. Keys are hashed: the
storage holds no usernames, emails or addresses.

The login limits, with the defaults (KLINIKITA_LOGIN_MAX_FAILURES = 5,
KLINIKITA_LOGIN_LOCK_MINUTES = 15):
- one name from one address: 5 tries per 15 minutes; a successful login clears the count;
- one address, whatever the names: 30 failed logins per 15 minutes;
- one account from every address together: 50 failed logins per hour lock the account
  (see `auth.login`). One address can make at most 25 tries in an hour at one name, so no
  single address can lock anybody out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from datetime import timedelta

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from klinikita.settings import get_settings

LOGIN_FAILURES_PER_ADDRESS = 30  # per KLINIKITA_LOGIN_LOCK_MINUTES
# The account-wide lock: this many times KLINIKITA_LOGIN_MAX_FAILURES, within this many
# times KLINIKITA_LOGIN_LOCK_MINUTES.
ACCOUNT_LOCK_FACTOR = 10
ACCOUNT_WINDOW_FACTOR = 4
RESET_REQUESTS_PER_ACCOUNT = RateLimitItemPerHour(3, namespace="reset-account")
RESET_REQUESTS_PER_ADDRESS = RateLimitItemPerHour(10, namespace="reset-address")
# Wrong current passwords in "Ganti kata sandi" per user: KLINIKITA_LOGIN_MAX_FAILURES per
# KLINIKITA_LOGIN_LOCK_MINUTES, like a login.

UNKNOWN_ADDRESS = "unknown"
_REDIS_KEY_PREFIX = "klinikita-limits"
_LOCK = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None


def _get() -> MovingWindowRateLimiter:
    global _limiter
    with _LOCK:
        if _limiter is None:
            url = get_settings().redis_url
            if url:
                url = url if "://" in url else f"redis://{url}"
                storage = storage_from_string(url, key_prefix=_REDIS_KEY_PREFIX)
            else:
                storage = storage_from_string("memory://")
            _limiter = MovingWindowRateLimiter(storage)
        return _limiter


def reset() -> None:
    """Forget every count, and read the storage setting again on the next use."""
    global _limiter
    limiter = _get()
    limiter.storage.reset()
    with _LOCK:
        _limiter = None


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def client_key(address: str | None) -> str:
    """The address a count is kept for: an IPv6 address by its /64 network (one
    subscriber's usual share), an IPv4 one as it is; no address at all is one more key."""
    raw = (address or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:100] or UNKNOWN_ADDRESS
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _name(username: str) -> str:
    return username.strip().lower()


# ----- logins ---------------------------------------------------------------------------------
def _lock_minutes() -> int:
    return get_settings().login_lock_minutes


def _name_tries() -> RateLimitItem:
    s = get_settings()
    return RateLimitItemPerMinute(
        s.login_max_failures, s.login_lock_minutes, namespace="login-name-address"
    )


def _address_failures() -> RateLimitItem:
    return RateLimitItemPerMinute(
        LOGIN_FAILURES_PER_ADDRESS, _lock_minutes(), namespace="login-address"
    )


def _account_failures() -> RateLimitItem:
    s = get_settings()
    return RateLimitItemPerMinute(
        ACCOUNT_LOCK_FACTOR * s.login_max_failures,
        ACCOUNT_WINDOW_FACTOR * s.login_lock_minutes,
        namespace="login-account",
    )


def _generation_key(username: str) -> str:
    return f"login-generation/{_key(_name(username))}"


def _name_id(username: str) -> str:
    """The name's key with its generation: `forget_login_failures` starts a new one."""
    generation = _get().storage.get(_generation_key(username))
    return _key(_name(username), str(generation))


def login_blocked(username: str, address: str | None) -> bool:
    """Whether a login must be refused without looking at it. When not, the try is counted
    (against this name from this address; `login_succeeded` clears that count)."""
    limiter = _get()
    where = _key(client_key(address))
    if not limiter.test(_address_failures(), where):
        return True
    return not limiter.hit(_name_tries(), _name_id(username), where)


def login_failed(username: str, address: str | None) -> bool:
    """Count a failed login at the address and at the name; True when the name's failures
    from every address together have reached the account-wide limit (time to lock it)."""
    limiter = _get()
    limiter.hit(_address_failures(), _key(client_key(address)))
    name = _name_id(username)
    limiter.hit(_account_failures(), name)
    return not limiter.test(_account_failures(), name)


def login_succeeded(username: str, address: str | None) -> None:
    _get().clear(_name_tries(), _name_id(username), _key(client_key(address)))


def forget_login_failures(username: str) -> None:
    """A fresh start for the name's counts, from every address (an admin's "Buka kunci",
    a new password)."""
    window = timedelta(minutes=ACCOUNT_WINDOW_FACTOR * _lock_minutes())
    _get().storage.incr(_generation_key(username), int(2 * window.total_seconds()))


# ----- password reset requests ----------------------------------------------------------------
def reset_request_refusal(account: str, address: str | None) -> str | None:
    """Count a reset request; None when it may go ahead, else the name of the limit it is
    over ("address" or "account"). `account` names the account (its id when known, else
    what was typed)."""
    limiter = _get()
    if not limiter.hit(RESET_REQUESTS_PER_ADDRESS, _key(client_key(address))):
        return "address"
    if not limiter.hit(RESET_REQUESTS_PER_ACCOUNT, _key(account)):
        return "account"
    return None


# ----- "Ganti kata sandi" ---------------------------------------------------------------------
def _change_failures() -> RateLimitItem:
    s = get_settings()
    return RateLimitItemPerMinute(
        s.login_max_failures, s.login_lock_minutes, namespace="password-change"
    )


def password_change_blocked(user_id: int) -> bool:
    return not _get().test(_change_failures(), str(user_id))


def password_change_failed(user_id: int) -> None:
    _get().hit(_change_failures(), str(user_id))
