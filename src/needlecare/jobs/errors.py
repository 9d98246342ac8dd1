"""Job errors: which failures are worth retrying."""

from __future__ import annotations


class PermanentJobError(Exception):
    """The job can never succeed (e.g. the stored photo cannot be measured): fail at once, no retry."""


class ClaimedElsewhereError(Exception):
    """Another worker holds this job's lease right now: retry later (after its lease may have expired)."""
