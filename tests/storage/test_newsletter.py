"""Newsletter subscriptions on both backends: unique address, double opt-in state changes, UTC times."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from needlecare.newsletter import service
from needlecare.newsletter.tokens import Claim
from needlecare.storage.newsletter import NewsletterSubscription

from .conftest import Database

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_one_row_per_address(db: Database) -> None:
    with db.session() as s:
        for _ in range(2):
            s.add(NewsletterSubscription(email="ann@example.org", confirm_nonce="n", unsubscribe_key="k",
                                         consent_version="v"))  # fmt: skip
        with pytest.raises(IntegrityError):
            s.commit()


def test_request_confirm_unsubscribe_request_again(db: Database) -> None:
    with db.session() as s:
        sub = service.request_subscription(s, "ann@example.org", now=T0, resend_after_s=600)
        assert sub is not None
        s.commit()
        sid, nonce, key = sub.id, sub.confirm_nonce, sub.unsubscribe_key
    with db.session() as s:  # within the cooldown: nothing to send, the link stays the same
        assert service.request_subscription(s, "ann@example.org", now=T0 + dt.timedelta(minutes=5),
                                            resend_after_s=600) is None  # fmt: skip
        assert service.confirm(s, Claim(sid, "wrong"), now=T0) == "invalid"
        assert service.confirm(s, Claim(sid, nonce), now=T0 + dt.timedelta(minutes=6)) == "confirmed"
        s.commit()
    with db.session() as s:
        row = s.get(NewsletterSubscription, sid)
        assert row is not None
        assert row.status == "confirmed"
        assert row.consented_at is not None
        assert row.consented_at.replace(tzinfo=row.consented_at.tzinfo or dt.UTC) == T0 + dt.timedelta(
            minutes=6
        )
        assert service.request_subscription(s, "ann@example.org", now=T0 + dt.timedelta(days=1),
                                            resend_after_s=600) is None  # fmt: skip
        assert service.unsubscribe(s, Claim(sid, "wrong"), now=T0) is False
        assert service.unsubscribe(s, Claim(sid, key), now=T0 + dt.timedelta(days=2)) is True
        s.commit()
        assert row.confirm_nonce != nonce
        assert service.confirm(s, Claim(sid, nonce), now=T0 + dt.timedelta(days=2)) == "invalid"
    with db.session() as s:
        again = service.request_subscription(
            s, "ann@example.org", now=T0 + dt.timedelta(days=3), resend_after_s=600
        )
        assert again is not None
        assert (again.id, again.status, again.unsubscribe_key) == (sid, "pending", key)
        s.commit()
    with db.session() as s:
        assert [r.email for r in service.confirmed_subscribers(s)] == []
