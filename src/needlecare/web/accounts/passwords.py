"""Password policy after NIST SP 800-63B section 5.1.1.2: length, and no commonly used or guessable secret.

No composition rules (no "one digit, one capital"). A password is refused, with a plain reason, when it is

* shorter than :data:`MIN_LENGTH` or longer than :data:`MAX_LENGTH` characters;
* one character repeated (``"aaaaaaaaaa"``, ten spaces, ten NUL characters);
* on the list of the 30,000 most common passwords from breach corpora that the ``zxcvbn`` package ships
  (compared case-insensitively, also with surrounding spaces removed): no network at run time;
* the account's own e-mail address, or its part before the ``@``.

>>> problems("correct horse battery", email="ann@example.org")
[]
>>> problems("password12", email="ann@example.org")
['This password is one of the most common ones (found in lists of breached passwords); choose another.']
"""

from __future__ import annotations

from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

#: Length bounds in characters (Unicode code points). Long passphrases are welcome; the upper bound keeps
#: hashing bounded.
MIN_LENGTH, MAX_LENGTH = 10, 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common (breached) passwords, lower-case."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def problems(password: str, *, email: str | None = None) -> list[str]:
    """Plain reasons why *password* is refused; empty when it is acceptable.

    Parameters
    ----------
    password
        The new password, exactly as typed.
    email
        The account's address, if known (the password must not be it).
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters (a few words make a good password)."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    found = []
    if len(set(password)) == 1:
        found.append("A password of one character repeated is too easy to guess.")
    folded = password.strip().lower()
    if password.lower() in common_passwords() or folded in common_passwords():
        found.append(
            "This password is one of the most common ones (found in lists of breached passwords); "
            "choose another."
        )
    if email:
        address = email.strip().lower()
        if folded in {address, address.split("@", 1)[0]}:
            found.append("Your password must not be your e-mail address.")
    return found


def check(password: str, *, email: str | None = None) -> str:
    """*password* if acceptable; :class:`ValueError` with the reasons otherwise (for pydantic validators)."""
    found = problems(password, email=email)
    if found:
        raise ValueError(" ".join(found))
    return password
