"""Outgoing e-mail: compose plain-text messages and send them through SMTP or into a local outbox directory.

Configuration is the ``mail`` section of the settings (:class:`~needlecare.settings.MailSettings`, read from
the environment variables with the ``NEEDLECARE_SMTP_`` prefix).
The default backend, ``outbox``, writes each message as an ``.eml`` file to ``<data_dir>/outbox`` so a
development server needs no SMTP server; set ``NEEDLECARE_SMTP_BACKEND=smtp`` and ``NEEDLECARE_SMTP_HOST`` /
``_PORT`` / ``_FROM_ADDRESS`` (optionally ``_STARTTLS``, ``_USERNAME``, ``_PASSWORD``) to send for real.

Messages to subscribers carry RFC 2369 ``List-Unsubscribe`` and RFC 8058 ``List-Unsubscribe-Post`` headers so
mail clients can offer one-click unsubscribe (see :func:`compose`).
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from needlecare.settings import MailSettings
from needlecare.storage.private import private_dir, write_new_private

logger = logging.getLogger(__name__)

#: Value of the RFC 8058 ``List-Unsubscribe-Post`` header.
ONE_CLICK = "List-Unsubscribe=One-Click"

#: Headers are not folded below RFC 5322's 998-character line limit: a long ``List-Unsubscribe`` URL must stay
#: one plain token (folding would turn it into encoded words that mail clients do not read as a URL).
POLICY = email.policy.default.clone(max_line_length=998)


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server or written to the outbox."""


def compose(
    *, sender: str, to: str, subject: str, text: str, unsubscribe_url: str | None = None
) -> EmailMessage:
    """A plain-text (UTF-8) message with ``Date`` and ``Message-ID``.

    Parameters
    ----------
    sender, to
        ``From`` and ``To`` (``to`` is one address).
    subject, text
        Subject line and body.
    unsubscribe_url
        HTTPS URL that unsubscribes the recipient on POST; adds ``List-Unsubscribe: <url>`` and
        ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). The body should contain the same
        link for readers whose client shows no button.
    """
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = Address(addr_spec=to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(text, charset="utf-8")
    return message


class Mailer:
    """Send messages with the configured backend.

    Parameters
    ----------
    settings
        Mail configuration.
    default_outbox
        Outbox directory used when ``settings.outbox_dir`` is not set.
    """

    def __init__(self, settings: MailSettings, default_outbox: Path) -> None:
        self.settings = settings
        self.outbox = settings.outbox_dir or default_outbox

    @property
    def sender(self) -> str:
        """The ``From`` header for outgoing mail."""
        return self.settings.from_address

    def send(self, message: EmailMessage) -> None:
        """Deliver *message*; raises :class:`MailError` when that fails."""
        if self.settings.backend == "outbox":
            self._write(message)
        else:
            self._smtp(message)

    def send_quietly(self, message: EmailMessage) -> bool:
        """Deliver *message* from a background task: a failure is logged (without the address), not raised."""
        try:
            self.send(message)
        except MailError:
            logger.exception("could not send mail %s", message.get("Message-ID"))
            return False
        return True

    def _write(self, message: EmailMessage) -> None:
        try:
            private_dir(self.outbox)
            write_new_private(self.outbox / f"{uuid.uuid4().hex}.eml", message.as_bytes())
        except OSError as exc:
            raise MailError(f"cannot write to the outbox {self.outbox}: {exc}") from exc

    def _smtp(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    password = s.password.get_secret_value() if s.password else ""
                    smtp.login(s.username, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP delivery via {s.host}:{s.port} failed: {exc}") from exc
