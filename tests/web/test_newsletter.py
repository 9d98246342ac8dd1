"""Newsletter double opt-in against a real local SMTP server (aiosmtpd): consent, confirmation link, one-click
unsubscribe (RFC 8058), re-subscription, no user enumeration, expired and tampered tokens, CSRF."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.testclient import TestClient

from needlecare.jobs.mail import message_id
from needlecare.mail import Mailer
from needlecare.newsletter import service
from needlecare.newsletter.service import CONSENT_TEXT, CONSENT_VERSION
from needlecare.newsletter.tokens import CONFIRM_SALT
from needlecare.settings import Settings
from needlecare.storage.models import MailDelivery
from needlecare.storage.newsletter import NewsletterSubscription
from needlecare.web.context import WebContext
from needlecare.web.ratelimit import RateLimits

from .conftest import make_settings, new_client, page_csrf

BASE = "https://testserver"
LINK = re.compile(r"https://testserver(/newsletter/(?:confirm|unsubscribe)/[A-Za-z0-9_.-]+)")


class Sink:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.received if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _mail_from_environment(ctx: WebContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the app's mail job the mailer the environment now describes (it read the environment at start)."""
    monkeypatch.setattr(ctx.jobs.ctx, "mailer", Mailer(Settings().mail, ctx.settings.data_dir / "outbox"))


def _from_environment(ctx: WebContext, monkeypatch: pytest.MonkeyPatch, *fields: str) -> None:
    """Give the app the *fields* of the settings the environment now describes, with the rate limits that
    follow from them (the app read the environment at start; its newsletter is built on first use)."""
    now = Settings()
    settings = ctx.settings.model_copy(update={field: getattr(now, field) for field in fields})
    monkeypatch.setattr(ctx, "settings", settings)
    monkeypatch.setattr(ctx, "limits", RateLimits.from_settings(settings))


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch, ctx: WebContext) -> Iterator[Sink]:
    """A real SMTP server on a free local port; the app's mail job is configured (by environment) for it."""
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("NEEDLECARE_SMTP_BACKEND", "smtp")
    monkeypatch.setenv("NEEDLECARE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEEDLECARE_SMTP_PORT", str(port))
    monkeypatch.setenv("NEEDLECARE_SMTP_FROM_ADDRESS", "needlecare <news@needlecare.test>")
    _mail_from_environment(ctx, monkeypatch)
    try:
        yield sink
    finally:
        controller.stop()


def _subscribe(client: TestClient, address: str, **overrides: str | None) -> Any:
    data: dict[str, str | None] = {
        "email": address,
        "consent": "yes",
        "consent_version": CONSENT_VERSION,
        "csrf_token": page_csrf(client, "/newsletter"),
    }
    data.update(overrides)
    return client.post("/newsletter", data={k: v for k, v in data.items() if v is not None})


def _row(ctx: WebContext, address: str) -> NewsletterSubscription | None:
    with ctx.sessions() as db:
        return db.scalar(select(NewsletterSubscription).where(NewsletterSubscription.email == address))


def _links(message: EmailMessage) -> dict[str, str]:
    body = message.get_content()
    found = {m.group(1).split("/")[2]: m.group(1) for m in LINK.finditer(body)}
    return found


def _confirm(client: TestClient, confirm_path: str) -> Any:
    page = client.get(confirm_path)
    assert page.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/newsletter/confirm",
        data={"token": token.group(1), "csrf_token": page_csrf(client, confirm_path)},
    )


def _subscribed(client: TestClient, ctx: WebContext, smtp: Sink, address: str) -> EmailMessage:
    """Subscribe and confirm *address*; returns the confirmation mail."""
    assert _subscribe(client, address).status_code == 200
    mail = smtp.to(address)[-1]
    assert _confirm(client, _links(mail)["confirm"]).status_code == 200
    row = _row(ctx, address)
    assert row is not None
    assert row.status == "confirmed"
    return mail


def test_form_has_an_unticked_consent_checkbox_with_the_wording(client: TestClient) -> None:
    page = client.get("/newsletter")
    assert page.status_code == 200
    box = re.search(r"<input[^>]*name=\"consent\"[^>]*>", page.text)
    assert box is not None
    assert 'type="checkbox"' in box.group(0)
    assert "checked" not in box.group(0)
    assert CONSENT_TEXT.replace("'", "&#39;") in page.text
    assert f'name="consent_version" value="{CONSENT_VERSION}"' in page.text


@pytest.mark.parametrize("consent", [None, "", "no", "on"])
def test_no_consent_no_subscription(
    client: TestClient, ctx: WebContext, smtp: Sink, consent: str | None
) -> None:
    r = _subscribe(client, "ann@example.org", consent=consent)
    assert r.status_code == 422
    assert "tick the box" in r.text
    assert 'value="ann@example.org"' in r.text  # the form is shown again, filled in
    assert _row(ctx, "ann@example.org") is None
    assert smtp.received == []


def test_outdated_consent_wording_or_bad_address_is_refused(
    client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    r = _subscribe(client, "ann@example.org", consent_version="2001-01-01")
    assert r.status_code == 422
    assert "wording of the consent has changed" in r.text
    r = _subscribe(client, "not-an-address")
    assert r.status_code == 422
    assert "valid e-mail address" in r.text
    assert _row(ctx, "ann@example.org") is None
    assert smtp.received == []


def test_subscribe_form_needs_the_csrf_token(client: TestClient, ctx: WebContext, smtp: Sink) -> None:
    for token in (None, "forged"):
        r = _subscribe(client, "ann@example.org", csrf_token=token)
        assert r.status_code == 403
    assert _row(ctx, "ann@example.org") is None
    assert smtp.received == []


def test_double_opt_in_records_consent_time_and_wording(
    client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    before = dt.datetime.now(dt.UTC)
    r = _subscribe(client, " Ann@Example.org ")
    assert r.status_code == 200
    assert "Check your inbox" in r.text
    (mail,) = smtp.to("ann@example.org")
    assert mail["From"] == "needlecare <news@needlecare.test>"
    assert "confirm" in mail["Subject"].lower()
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert (row.status, row.consented_at, row.consent_version) == ("pending", None, CONSENT_VERSION)

    links = _links(mail)
    assert set(links) == {"confirm", "unsubscribe"}
    page = client.get(links["confirm"])  # opening the link (as a mail scanner would) changes nothing
    assert page.status_code == 200
    assert "Confirm" in page.text
    pending = _row(ctx, "ann@example.org")
    assert pending is not None
    assert pending.status == "pending"

    r = _confirm(client, links["confirm"])
    assert r.status_code == 200
    assert "You are subscribed" in r.text
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "confirmed"
    assert row.consent_version == CONSENT_VERSION
    assert row.consented_at is not None
    consented = row.consented_at.replace(tzinfo=row.consented_at.tzinfo or dt.UTC)
    assert before <= consented <= dt.datetime.now(dt.UTC)

    again = _confirm(client, links["confirm"])
    assert again.status_code == 200
    assert "already confirmed" in again.text


def test_every_mail_has_one_click_headers_and_a_link(
    app: FastAPI, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    confirmation = _subscribed(client, ctx, smtp, "ann@example.org")
    nl = newsletter_of_app(app)
    with ctx.sessions() as db:
        assert service.send_issue(db, ctx.jobs, nl, BASE, "Tips for week 1", "Sun protection matters.") == 1
    issue = smtp.to("ann@example.org")[-1]
    assert issue["Subject"] == "Tips for week 1"
    for mail in (confirmation, issue):
        header = mail["List-Unsubscribe"]
        assert re.fullmatch(r"<https://testserver/newsletter/unsubscribe/[A-Za-z0-9_.-]+>", header), header
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f"https://testserver{_links(mail)['unsubscribe']}" == header[1:-1]
    assert "Sun protection matters." in issue.get_content()


def newsletter_of_app(app: FastAPI) -> service.Newsletter:
    """The app's Newsletter object (built from its settings on the first newsletter request)."""
    nl = app.state.newsletter
    assert isinstance(nl, service.Newsletter)
    return nl


def test_one_click_unsubscribe_works_without_login_cookies_or_csrf(
    app: FastAPI, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    _subscribed(client, ctx, smtp, "ann@example.org")
    _subscribed(client, ctx, smtp, "bob@example.org")
    nl = newsletter_of_app(app)
    with ctx.sessions() as db:
        service.send_issue(db, ctx.jobs, nl, BASE, "News", "Hello.")
    url = smtp.to("ann@example.org")[-1]["List-Unsubscribe"][1:-1]
    path = url.removeprefix(BASE)

    with new_client(app) as mail_client:  # a mail provider: no cookies, no CSRF token, just the RFC 8058 body
        assert mail_client.get(path).status_code == 200  # GET shows a button and changes nothing
        row = _row(ctx, "ann@example.org")
        assert row is not None
        assert row.status == "confirmed"
        r = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200
        assert "You are unsubscribed" in r.text
        assert mail_client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "unsubscribed"
    assert row.unsubscribed_at is not None
    other = _row(ctx, "bob@example.org")
    assert other is not None
    assert other.status == "confirmed"

    count = len(smtp.received)
    with ctx.sessions() as db:
        assert service.send_issue(db, ctx.jobs, nl, BASE, "News 2", "Again.") == 1
    assert [rcpts for rcpts, _ in smtp.received[count:]] == [["bob@example.org"]]


def test_unsubscribe_button_on_the_page_works(client: TestClient, ctx: WebContext, smtp: Sink) -> None:
    mail = _subscribed(client, ctx, smtp, "ann@example.org")
    path = _links(mail)["unsubscribe"]
    page = client.get(path)
    assert f'action="{path}"' in page.text
    r = client.post(path, data={"csrf_token": page_csrf(client, path)})
    assert r.status_code == 200
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "unsubscribed"


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(
    app: FastAPI, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    first = _subscribed(client, ctx, smtp, "ann@example.org")
    old_links = _links(first)
    assert client.post(old_links["unsubscribe"]).status_code == 200

    stale = _confirm(client, old_links["confirm"])  # the old link, still within its lifetime, is dead
    assert stale.status_code == 400
    assert "no longer valid" in stale.text
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "unsubscribed"

    assert _subscribe(client, "ann@example.org").status_code == 200
    assert len(smtp.to("ann@example.org")) == 2
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "pending"
    new_links = _links(smtp.to("ann@example.org")[-1])
    assert new_links["confirm"] != old_links["confirm"]
    # links in older mails keep working: both name the same unchanging key (the signing time may differ)
    tokens = newsletter_of_app(app).tokens
    old, new = (
        tokens.read_unsubscribe(links["unsubscribe"].rsplit("/", 1)[1]) for links in (old_links, new_links)
    )
    assert old == new
    assert client.get(old_links["unsubscribe"]).status_code == 200
    assert _confirm(client, new_links["confirm"]).status_code == 200
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "confirmed"


def test_same_answer_whether_or_not_the_address_is_known(
    client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    _subscribed(client, ctx, smtp, "ann@example.org")
    mails = len(smtp.received)
    known = _subscribe(client, "ann@example.org")
    unknown = _subscribe(client, "zoe@example.org")
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text)
    assert [rcpts for rcpts, _ in smtp.received[mails:]] == [["zoe@example.org"]]  # no mail to a subscriber

    # a pending address is not mailed again right away (no mail-bombing through the form), same answer again
    repeat = _subscribe(client, "zoe@example.org")
    assert (repeat.status_code, repeat.text) == (unknown.status_code, unknown.text)
    assert len(smtp.to("zoe@example.org")) == 1


def test_pending_address_gets_a_fresh_link_after_the_cooldown(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    monkeypatch.setenv("NEEDLECARE_NEWSLETTER_RESEND_AFTER_S", "0")
    _from_environment(ctx, monkeypatch, "newsletter")
    _subscribe(client, "ann@example.org")
    _subscribe(client, "ann@example.org")
    first, second = smtp.to("ann@example.org")
    old, new = _links(first)["confirm"], _links(second)["confirm"]
    assert old != new
    assert _confirm(client, old).status_code == 400  # only the newest link confirms
    assert _confirm(client, new).status_code == 200


def _expired_confirm_token(row: NewsletterSubscription) -> str:
    """A confirmation token exactly as the server issues it, but signed three days ago."""

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 24 * 3600

    serializer = URLSafeTimedSerializer("s" * 48, salt=CONFIRM_SALT, signer=ThreeDaysAgo)
    return str(serializer.dumps({"s": row.id, "v": row.confirm_nonce}))


def test_expired_and_tampered_tokens_get_a_friendly_page(
    client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    _subscribe(client, "ann@example.org")
    links = _links(smtp.to("ann@example.org")[0])
    row = _row(ctx, "ann@example.org")
    assert row is not None
    expired = _expired_confirm_token(row)
    confirm_token = links["confirm"].rsplit("/", 1)[1]
    unsubscribe_token = links["unsubscribe"].rsplit("/", 1)[1]
    # change a character in the middle of the signature (the last base64 character partly encodes padding)
    payload, _, signature = confirm_token.rpartition(".")
    tampered = f"{payload}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"

    cases = [
        ("get", f"/newsletter/confirm/{expired}", "has expired"),
        ("post_confirm", expired, "has expired"),
        ("get", f"/newsletter/confirm/{tampered}", "not valid"),
        ("post_confirm", tampered, "not valid"),
        ("post_confirm", unsubscribe_token, "not valid"),  # one kind of token is never the other
        ("get", "/newsletter/unsubscribe/" + unsubscribe_token[:-3] + "xyz", "not valid"),
        ("post", "/newsletter/unsubscribe/" + unsubscribe_token[:-3] + "xyz", "not valid"),
        ("post", f"/newsletter/unsubscribe/{confirm_token}", "not valid"),
        ("post", "/newsletter/unsubscribe/" + "x" * 600, "incomplete or damaged"),
    ]
    for kind, target, text in cases:
        if kind == "get":
            r = client.get(target)
        elif kind == "post":
            r = client.post(target, data={"List-Unsubscribe": "One-Click"})
        else:
            r = client.post(
                "/newsletter/confirm", data={"token": target, "csrf_token": page_csrf(client, "/newsletter")}
            )
        assert r.status_code == 400, (kind, target)
        assert r.headers["content-type"].startswith("text/html")
        assert "This link does not work" in r.text
        assert text in r.text, (kind, target)
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert (row.status, row.consented_at) == ("pending", None)


def test_unreachable_smtp_server_still_answers_the_same(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, ctx: WebContext, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NEEDLECARE_SMTP_BACKEND", "smtp")
    monkeypatch.setenv("NEEDLECARE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEEDLECARE_SMTP_PORT", str(_free_port()))  # nothing listens there
    monkeypatch.setenv("NEEDLECARE_SMTP_TIMEOUT_S", "2")
    _mail_from_environment(ctx, monkeypatch)
    r = _subscribe(client, "ann@example.org")
    assert r.status_code == 200
    assert "Check your inbox" in r.text
    assert "in-process job send_mail" in caplog.text  # the mail job failed and keeps the mail for a retry
    assert "ann@example.org" not in caplog.text
    row = _row(ctx, "ann@example.org")
    assert row is not None
    assert row.status == "pending"
    with ctx.sessions() as db:
        delivery = db.scalars(select(MailDelivery)).one()
    assert (delivery.to_address, delivery.status, delivery.attempts) == ("ann@example.org", "retrying", 1)
    assert delivery.key.startswith(f"newsletter-confirm:{row.id}:")
    assert row.confirm_nonce not in delivery.key


def test_public_url_setting_is_used_in_links(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    monkeypatch.delenv("NEEDLECARE_PUBLIC_URL", raising=False)
    monkeypatch.setenv("NEEDLECARE_NEWSLETTER_PUBLIC_URL", "https://care.example.org/")  # its deprecated name
    _from_environment(ctx, monkeypatch, "public_url")
    _subscribe(client, "ann@example.org")
    (mail,) = smtp.to("ann@example.org")
    assert mail["List-Unsubscribe"].startswith("<https://care.example.org/newsletter/unsubscribe/")
    assert "https://care.example.org/newsletter/confirm/" in mail.get_content()
    assert "testserver" not in mail.get_content()


def test_default_backend_writes_the_outbox_in_the_data_dir(
    client: TestClient, ctx: WebContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEEDLECARE_SMTP_BACKEND", raising=False)
    assert _subscribe(client, "ann@example.org").status_code == 200
    (path,) = (ctx.settings.data_dir / "outbox").glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == "ann@example.org"
    assert _confirm(client, _links(mail)["confirm"]).status_code == 200


def test_production_without_public_url_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    nl = service.Newsletter.build(make_settings(tmp_path, environment="production", public_url=None))
    assert "NEEDLECARE_PUBLIC_URL is not set" in caplog.text
    assert nl.base_url == "http://127.0.0.1:8000"
    caplog.clear()
    nl = service.Newsletter.build(
        make_settings(tmp_path, environment="production", public_url="https://care.example.org/")
    )
    assert caplog.text == ""
    assert nl.base_url == "https://care.example.org"


def test_subscribe_requests_are_limited_per_client(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    monkeypatch.setenv("NEEDLECARE_NEWSLETTER_MAX_REQUESTS_PER_IP", "2")
    _from_environment(ctx, monkeypatch, "newsletter")
    assert _subscribe(client, "a@example.org").status_code == 200
    assert _subscribe(client, "a@example.org").status_code == 200  # counted even though nothing was sent
    r = _subscribe(client, "b@example.org")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    assert "try again in 60 minutes" in r.text
    assert _row(ctx, "b@example.org") is None
    assert [rcpts for rcpts, _ in smtp.received] == [["a@example.org"]]


def test_newsletter_mails_go_through_the_mail_job_once(
    app: FastAPI, client: TestClient, ctx: WebContext, smtp: Sink
) -> None:
    confirmation = _subscribed(client, ctx, smtp, "ann@example.org")
    with ctx.sessions() as db:
        (delivery,) = db.scalars(select(MailDelivery)).all()
    assert (delivery.status, delivery.attempts, delivery.to_address) == ("sent", 1, "ann@example.org")
    assert delivery.key.startswith("newsletter-confirm:")
    assert confirmation["Message-ID"] == message_id(delivery, "needlecare.test")
    assert confirmation["List-Unsubscribe"] == f"<{delivery.unsubscribe_url}>"
    assert ctx.jobs.enqueue("send_mail", delivery.id)  # a duplicated job message sends nothing more
    assert len(smtp.to("ann@example.org")) == 1

    nl = newsletter_of_app(app)
    with ctx.sessions() as db:
        assert service.send_issue(db, ctx.jobs, nl, BASE, "Week 2", "Gentle cleansing.") == 1
        assert service.send_issue(db, ctx.jobs, nl, BASE, "Week 2", "Gentle cleansing.") == 0  # same issue
        assert service.send_issue(db, ctx.jobs, nl, BASE, "Week 3", "Sunscreen.") == 1
        issues = db.scalars(
            select(MailDelivery).where(MailDelivery.key.startswith("newsletter-issue:"))
        ).all()
    assert sorted((d.subject, d.status) for d in issues) == [("Week 2", "sent"), ("Week 3", "sent")]
    assert [m["Subject"] for m in smtp.to("ann@example.org")[1:]] == ["Week 2", "Week 3"]
