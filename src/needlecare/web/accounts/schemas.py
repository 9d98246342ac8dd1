"""Account schemas: sign-up, login, password change and reset, e-mail verification, deletion, and the
public view of a user. New passwords follow :mod:`needlecare.web.accounts.passwords`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from needlecare.web.accounts import passwords
from needlecare.web.validators import SafeText, clean_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

#: Password length bounds in characters (see :mod:`needlecare.web.accounts.passwords`); a password given to
#: log in may be up to :data:`MAX_ANY_PASSWORD` long (accounts from before the policy).
MIN_PASSWORD, MAX_PASSWORD = passwords.MIN_LENGTH, passwords.MAX_LENGTH
MAX_ANY_PASSWORD = 1024


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
NewPassword = Annotated[str, Field(max_length=MAX_ANY_PASSWORD), AfterValidator(passwords.check)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=MAX_ANY_PASSWORD)]
Token = Annotated[str, Field(min_length=1, max_length=512)]


class SignupIn(BaseModel):
    """Create an account (the password must not be the address either)."""

    email: Email
    password: NewPassword

    @model_validator(mode="after")
    def _not_the_email(self) -> SignupIn:
        passwords.check(self.password, email=self.email)
        return self


class SignupAccepted(BaseModel):
    """The answer to every sign-up, whether or not the address had an account: a mail is on its way."""

    detail: str = (
        "Check your inbox: we sent a link to confirm this address. "
        "If the address already has an account, the mail tells you how to log in instead."
    )


class EmailIn(BaseModel):
    """An address to send a password-reset link to."""

    email: Annotated[str, Field(min_length=1, max_length=320)]


class PasswordResetIn(BaseModel):
    """A new password with the reset link's token."""

    token: Token
    new_password: NewPassword


class VerifyIn(BaseModel):
    """The token from an e-mail verification link."""

    token: Token


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
    email_verified_at: dt.datetime | None = None


class SessionPublic(BaseModel):
    """The current session: the CSRF token to send in ``X-CSRF-Token`` and the user, if logged in."""

    csrf_token: str
    user: UserPublic | None


class DisplayNameIn(BaseModel):
    """The name for the patient's reports; empty removes it."""

    display_name: Annotated[SafeText, Field(max_length=120)] = ""
