"""Public newsletter pages (no login).

- ``GET /newsletter``: the form (e-mail and an unticked consent checkbox). ``POST /newsletter`` (CSRF-checked)
  refuses without the tick and otherwise always answers the same page, whether or not the address is known.
- ``GET /newsletter/confirm/{token}`` shows a Confirm button (mail scanners that open links must not confirm);
  ``POST /newsletter/confirm`` (CSRF-checked) confirms and records the consent time.
- ``GET /newsletter/unsubscribe/{token}`` shows an Unsubscribe button; ``POST`` to the same URL unsubscribes.
  That POST is also the RFC 8058 one-click endpoint mail clients call without cookies or a CSRF token, so it
  is a plain Starlette route outside the app's CSRF dependency: the signed token is the proof of authority.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from needlecare.jobs.queue import SEND_MAIL
from needlecare.newsletter import service
from needlecare.newsletter.service import CONSENT_TEXT, CONSENT_VERSION, Newsletter
from needlecare.newsletter.tokens import MAX_TOKEN_LENGTH, TokenError
from needlecare.storage.models import utcnow
from needlecare.web.accounts.schemas import Email
from needlecare.web.context import WebContext
from needlecare.web.deps import CtxDep, DbDep, OptionalUser, client_ip
from needlecare.web.ratelimit import address_key
from needlecare.web.templating import render

router = APIRouter(include_in_schema=False)

_EMAIL = TypeAdapter(Email)

NEED_CONSENT = "Please tick the box to agree to receive the newsletter; we cannot subscribe you without it."
BAD_EMAIL = "Please enter a valid e-mail address."
WORDING_CHANGED = (
    "The wording of the consent has changed since you opened this page; please read it and tick again."
)
EXPIRED = "This link has expired. Please subscribe again to get a new confirmation link."
#: Rate-limit rule of subscribe requests, counted per client address.
LIMIT_KEY = "newsletter"
STALE = "This link is no longer valid: a newer link was sent, or the address was unsubscribed since."


def newsletter_of(request: Request, ctx: WebContext) -> Newsletter:
    """The app's :class:`Newsletter`, built from its settings on first use and kept on ``app.state``."""
    state = request.app.state
    existing: Newsletter | None = getattr(state, "newsletter", None)
    if existing is None:
        existing = Newsletter.build(ctx.settings)
        state.newsletter = existing
    return existing


def _form(
    request: Request, user: Any, *, error: str | None = None, email: str = "", status: int = 200
) -> Response:
    context = {
        "user": user,
        "error": error,
        "email": email,
        "consent_text": CONSENT_TEXT,
        "consent_version": CONSENT_VERSION,
    }
    return render(request, "newsletter.html", context, status_code=status)


def _message(request: Request, title: str, message: str, *, status: int = 200, user: Any = None) -> Response:
    return render(
        request,
        "newsletter_message.html",
        {"title": title, "message": message, "user": user},
        status_code=status,
    )


def _bad_link(request: Request, exc: TokenError, user: Any = None) -> Response:
    message = EXPIRED if exc.expired else f"{exc} Please use the link from your most recent e-mail."
    return _message(request, "This link does not work", message, status=400, user=user)


@router.get("/newsletter")
def newsletter_page(request: Request, user: OptionalUser) -> Response:
    """The subscription form."""
    return _form(request, user)


@router.post("/newsletter")
def subscribe(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    ctx: CtxDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
    consent: Annotated[str | None, Form(max_length=10)] = None,
    consent_version: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    """Ask for a confirmation e-mail. The answer is the same whether or not the address is already known."""
    if consent != "yes":
        return _form(request, user, error=NEED_CONSENT, email=email, status=422)
    if consent_version != CONSENT_VERSION:
        return _form(request, user, error=WORDING_CHANGED, email=email, status=422)
    try:
        address = _EMAIL.validate_python(email)
    except ValidationError:
        return _form(request, user, error=BAD_EMAIL, email=email, status=422)
    nl = newsletter_of(request, ctx)
    ip = client_ip(request)
    wait_s = ctx.limits.retry_after(LIMIT_KEY, address_key(ip))
    if wait_s > 0:
        minutes = -(-wait_s // 60)
        message = f"Too many subscription requests from your network. Please try again in {minutes} minutes."
        response = _message(request, "Please wait a little", message, status=429, user=user)
        response.headers["Retry-After"] = str(wait_s)
        return response
    ctx.limits.hit(LIMIT_KEY, address_key(ip))  # every request counts, whatever happens next
    sub = service.request_subscription(db, address, now=utcnow(), resend_after_s=nl.settings.resend_after_s)
    if sub is not None:
        delivery_id = nl.queue_confirmation(db, nl.base_url, sub)
        db.commit()
        # After the response: the answer takes the same time whether or not a mail is sent (no enumeration);
        # the row is committed, so a lost enqueue is picked up by the scheduler's sweep.
        background.add_task(ctx.jobs.enqueue, SEND_MAIL, delivery_id)
    return _message(
        request,
        "Check your inbox",
        "If this address can receive our newsletter, a confirmation link is on its way. You are subscribed "
        "only after you open it and press Confirm. Nothing arrived? Check your spam folder, or try again in "
        "a few minutes.",
        user=user,
    )


@router.get("/newsletter/confirm/{token}")
def confirm_page(request: Request, user: OptionalUser, ctx: CtxDep, token: str) -> Response:
    """The Confirm button for a confirmation link (opening the link alone changes nothing)."""
    try:
        newsletter_of(request, ctx).tokens.read_confirm(token)
    except TokenError as exc:
        return _bad_link(request, exc, user)
    return render(request, "newsletter_confirm.html", {"user": user, "token": token})


@router.post("/newsletter/confirm")
def confirm(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    ctx: CtxDep,
    token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)],
) -> Response:
    """Confirm the subscription and record when consent was given."""
    try:
        claim = newsletter_of(request, ctx).tokens.read_confirm(token)
    except TokenError as exc:
        return _bad_link(request, exc, user)
    outcome = service.confirm(db, claim, now=utcnow())
    db.commit()
    if outcome == "invalid":
        return _message(request, "This link does not work", STALE, status=400, user=user)
    if outcome == "already_confirmed":
        return _message(request, "Already confirmed", "Your subscription was already confirmed.", user=user)
    return _message(
        request,
        "You are subscribed",
        "Thank you: your subscription is confirmed. Every newsletter has a one-click unsubscribe link.",
        user=user,
    )


@router.get("/newsletter/unsubscribe/{token}")
def unsubscribe_page(request: Request, user: OptionalUser, ctx: CtxDep, token: str) -> Response:
    """The Unsubscribe button (POSTs to the same URL)."""
    try:
        newsletter_of(request, ctx).tokens.read_unsubscribe(token)
    except TokenError as exc:
        return _bad_link(request, exc, user)
    return render(request, "newsletter_unsubscribe.html", {"user": user, "token": token})


def one_click_unsubscribe(request: Request) -> Response:
    """``POST /newsletter/unsubscribe/{token}``: unsubscribe (RFC 8058 one-click; no login, no CSRF token).

    Plain Starlette endpoint (sync, so it runs in the thread pool): it is outside the app's CSRF dependency on
    purpose, because mail clients post here without the site's cookies. Idempotent.
    """
    ctx: WebContext = request.app.state.ctx
    token = str(request.path_params["token"])
    try:
        claim = newsletter_of(request, ctx).tokens.read_unsubscribe(token)
    except TokenError as exc:
        return _bad_link(request, exc)
    with ctx.sessions() as db:
        found = service.unsubscribe(db, claim, now=utcnow())
        db.commit()
    if not found:
        return _message(request, "This link does not work", STALE, status=400)
    return _message(
        request,
        "You are unsubscribed",
        "You will not receive the newsletter any more. Changed your mind? Subscribe again on the newsletter "
        "page; you will be asked to confirm.",
    )


router.add_route(
    "/newsletter/unsubscribe/{token}", one_click_unsubscribe, methods=["POST"], include_in_schema=False
)
