"""Reminder settings page and API, and the calendar feed ``GET /calendar/{token}.ics`` (no cookie needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from needlecare.storage.models import User
from needlecare.web.context import WebContext
from needlecare.web.deps import CtxDep, CurrentUser, DbDep
from needlecare.web.reminders import service
from needlecare.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["reminders"])

Token = Annotated[str, Path(pattern=service.TOKEN_PATTERN, max_length=64)]


class ReminderSettings(BaseModel):
    """A patient's reminder settings; ``calendar_url`` is the secret feed URL for calendar apps."""

    timezone: str | None = Field(default=None, max_length=64)
    reminders_enabled: bool = True
    reminder_hour: int = 8
    calendar_url: str = ""


class ReminderUpdate(BaseModel):
    """New settings: ``timezone`` an IANA name (``null``: each treatment's zone)."""

    timezone: str | None = Field(default=None, max_length=64)
    reminders_enabled: bool = True


def _view(db: DbDep, ctx: WebContext, user: User) -> ReminderSettings:
    token = service.calendar_token(db, user)
    db.commit()
    return ReminderSettings(
        timezone=user.timezone,
        reminders_enabled=user.reminders_enabled,
        reminder_hour=ctx.settings.jobs.reminder_hour,
        calendar_url=f"{ctx.settings.base_url}/calendar/{token}.ics",
    )


@router.get("/calendar/{token}.ics")
def calendar_feed(token: Token, db: DbDep, ctx: CtxDep) -> Response:
    """The patient's aftercare calendar, for calendar apps that subscribe by URL."""
    user = service.user_by_token(db, token)
    body = service.feed(db, user, reminder_hour=ctx.settings.jobs.reminder_hour)
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Disposition": 'inline; filename="aftercare.ics"',
    }
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


@router.get("/reminders")
def reminders_page(request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """Time zone, reminder mails on/off, and the calendar subscription link."""
    view = _view(db, ctx, user)
    return render(
        request, "reminders.html", {"user": user, "r": view, "saved": "saved" in request.query_params}
    )


@router.post("/reminders")
def save_reminders(
    user: CurrentUser,
    db: DbDep,
    timezone: Annotated[str, Form(max_length=64)] = "",
    reminders_enabled: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Save the settings (an unknown time zone is a 422 page)."""
    service.update(db, user, timezone=timezone, reminders_enabled=reminders_enabled)
    db.commit()
    return RedirectResponse("/reminders?saved=1", status_code=303)


@router.post("/reminders/calendar/reset")
def reset_calendar(user: CurrentUser, db: DbDep) -> RedirectResponse:
    """Give the calendar feed a new secret URL (the old one stops working)."""
    service.rotate_token(db, user)
    db.commit()
    return RedirectResponse("/reminders", status_code=303)


@api_router.get("/reminders", responses={401: {"description": "Not logged in"}})
def read_reminders(user: CurrentUser, db: DbDep, ctx: CtxDep) -> ReminderSettings:
    """The patient's reminder settings and calendar feed URL."""
    return _view(db, ctx, user)


@api_router.put("/reminders", responses={422: {"description": "Unknown time zone"}})
def write_reminders(data: ReminderUpdate, user: CurrentUser, db: DbDep, ctx: CtxDep) -> ReminderSettings:
    """Change the time zone of the morning reminders and switch them on or off."""
    service.update(db, user, timezone=data.timezone, reminders_enabled=data.reminders_enabled)
    db.commit()
    return _view(db, ctx, user)
