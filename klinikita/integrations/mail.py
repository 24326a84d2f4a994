"""Sending mail over SMTP (stdlib), outside any database transaction.

`send` delivers one message and raises on failure; `send_later` hands it to a small
background thread so a page's reply never waits for (or reveals) the mail server.
Failures there are logged, never shown to whoever asked.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from klinikita.settings import Settings, get_settings

log = logging.getLogger("klinikita.mail")

_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


class MailNotConfigured(RuntimeError):
    pass


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="klinikita")
    message.set_content(mail.body)
    return message


def send(mail: OutgoingMail, settings: Settings | None = None) -> None:
    """Deliver `mail` now; raises MailNotConfigured or the smtplib/OS error."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        raise MailNotConfigured("KLINIKITA_SMTP_HOST is not set")
    message = build_message(mail, settings.smtp_sender)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="klinikita-mail")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def _send_logged(mail: OutgoingMail, what: str) -> None:
    try:
        send(mail)
    except MailNotConfigured:
        log.warning("Mail not sent (%s): KLINIKITA_SMTP_HOST is not set", what)
    except Exception:  # noqa: BLE001  (any mail failure is logged, never raised to the page)
        log.exception("Mail not sent (%s)", what)
    else:
        log.info("Mail sent (%s)", what)


def send_later(mail: OutgoingMail, what: str) -> Future:
    """Send in the background; `what` names the mail in the log (never its content)."""
    future = _executor.submit(_send_logged, mail, what)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_pending(timeout: float = 30) -> None:
    """Block until mail handed to `send_later` so far has been tried (tests, shutdown)."""
    with _pending_lock:
        futures = list(_pending)
    for future in futures:
        future.result(timeout=timeout)
