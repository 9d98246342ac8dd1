"""Account schemas: sign-up, login, password change, deletion, and the public view of a user."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from needlecare.web.validators import SafeText, clean_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

#: Password length bounds in characters (long passphrases welcome; an upper bound keeps hashing bounded).
MIN_PASSWORD, MAX_PASSWORD = 10, 1024


def _normalise_email(value: str) -> str:
    value = clean_text(value).strip().lower()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


#: What an e-mail address looks like, as the schema states it (surrounding white space is ignored).
EMAIL_PATTERN = r"^\s*[^@\s\x00]+@[^@\s\x00]+\.[^@\s.\x00]+\s*$"

#: The pattern is stated in the schema only; :func:`_normalise_email` applies the same rule, in words.
Email = Annotated[
    str, Field(max_length=320, json_schema_extra={"pattern": EMAIL_PATTERN}), AfterValidator(_normalise_email)
]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD)]


class SignupIn(BaseModel):
    """Create an account."""

    email: Email
    password: NewPassword


class LoginIn(BaseModel):
    """Log in."""

    email: Annotated[SafeText, Field(min_length=1, max_length=320)]
    password: AnyPassword


class PasswordChangeIn(BaseModel):
    """Change the password; the current one is required."""

    current_password: AnyPassword
    new_password: NewPassword


class AccountDeleteIn(BaseModel):
    """Delete the account and all its data; the password confirms it."""

    password: AnyPassword


class UserPublic(BaseModel):
    """A user as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    created_at: dt.datetime


class SessionPublic(BaseModel):
    """The current session: the CSRF token to send in ``X-CSRF-Token`` and the user, if logged in."""

    csrf_token: str
    user: UserPublic | None


class DisplayNameIn(BaseModel):
    """The name for the patient's reports; empty removes it."""

    display_name: Annotated[SafeText, Field(max_length=120)] = ""
