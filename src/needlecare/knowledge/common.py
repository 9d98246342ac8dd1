"""Shared pieces of every knowledge verdict: the reason type, the disclaimer and the input error."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Shown with every verdict (expected course, plan, triage, recovery curve).
DISCLAIMER = (
    "Decision support, not a diagnosis: these rules summarise published studies and clinic consensus and "
    "cannot examine your skin. If you are worried, contact your provider or a doctor."
)


class InvalidInputError(ValueError):
    """Input outside what a knowledge function accepts. The message is one line written for the user."""


@dataclass(frozen=True)
class Reason:
    """One plain-language reason and the short citations (``"Chu et al., Dermatol Surg 2021 (A)"``) behind it.

    An empty ``sources`` tuple means no published source exists (the text then says so). ``rule`` names the
    rule or data row behind the reason and ``grade`` its evidence grade (A/B/C), when there is one.
    """

    text: str
    sources: tuple[str, ...] = field(default_factory=tuple)
    rule: str | None = None
    grade: str | None = None

    def to_dict(self) -> dict[str, str | list[str]]:
        """``{"text": str, "sources": [str]}`` (the JSON contracts), plus ``rule`` and ``grade`` if set."""
        out: dict[str, str | list[str]] = {"text": self.text, "sources": list(self.sources)}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.grade is not None:
            out["grade"] = self.grade
        return out
