"""A corrected time zone moves the daily reminders: they go out at the reminder hour of the new zone, and
what already went out counts for the local date it reached in the new zone (one mail per local date)."""

from __future__ import annotations

from starlette.testclient import TestClient

from needlecare.jobs.reminders import reminder_key
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment
from .reminder_runs import mail_keys, morning, record_reminders


def _set_zone(client: TestClient, headers: dict[str, str], tid: int, zone: str) -> None:
    r = client.patch(f"/api/v1/treatments/{tid}", json={"timezone": zone}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == zone


def test_an_unsent_reminder_moves_to_the_new_zonesmorning(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")  # 20 Nov
    ((key, _),) = record_reminders(ctx, "2026-11-23T09:00", sent=False)  # 09:00 in UTC: day 3 is due
    assert key == reminder_key(tid, 3)
    _set_zone(client, headers, tid, "America/New_York")  # UTC-5 in November
    assert mail_keys(ctx) == {}  # the reminder recorded for the old zone's morning is withdrawn
    assert record_reminders(ctx, "2026-11-23T09:01", sent=False) == []  # 04:01 in New York
    assert record_reminders(ctx, "2026-11-23T12:59", sent=False) == []  # 07:59
    ((key, body),) = record_reminders(ctx, "2026-11-23T13:00", sent=False)  # 08:00 in New York
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body


def test_sent_reminders_count_for_the_date_they_reached_in_the_new_zone(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="Asia/Tokyo")  # UTC+9
    for day, now in enumerate(
        ("2026-11-19T23:30", "2026-11-20T23:30", "2026-11-21T23:30", "2026-11-22T23:30")
    ):
        assert [k for k, _ in record_reminders(ctx, now, sent=True)] == [
            reminder_key(tid, day)
        ]  # 08:30 Tokyo
    # The patient was in London (UTC+0) all along: Tokyo's 08:30 was 23:30 the evening before there, so
    # 20, 21 and 22 Nov had a mail (days 0-2) and 23 Nov (day 3) has not had one yet.
    _set_zone(client, headers, tid, "Europe/London")
    assert record_reminders(ctx, "2026-11-23T07:59", sent=True) == []
    ((key, body),) = record_reminders(ctx, "2026-11-23T08:00", sent=True)
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body
    assert record_reminders(ctx, "2026-11-23T20:00", sent=True) == []  # once
    ((key, _),) = record_reminders(ctx, "2026-11-24T08:00", sent=True)
    assert key == reminder_key(tid, 4)
    keys = mail_keys(ctx)
    assert set(keys.values()) == {"sent"}
    assert {k for k in keys if k.startswith("reminder:")} == {reminder_key(tid, d) for d in range(5)}
    assert sum(k.startswith(f"reminder-superseded:{tid}:") for k in keys) == 1  # Tokyo's day 0: 19 Nov here
    assert len(keys) == 6


def test_a_date_that_had_its_mail_in_the_new_zone_gets_no_second_one(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="America/Los_Angeles")  # UTC-8
    ((key, _),) = record_reminders(ctx, "2026-11-22T16:30", sent=True)  # 08:30 on 22 Nov in Los Angeles
    assert key == reminder_key(tid, 2)
    # In Tokyo that mail arrived at 01:30 on 23 Nov: 23 Nov (day 3) had its mail, 24 Nov has not.
    _set_zone(client, headers, tid, "Asia/Tokyo")
    assert mail_keys(ctx) == {reminder_key(tid, 3): "sent"}
    assert record_reminders(ctx, "2026-11-23T00:30", sent=True) == []  # 09:30 on 23 Nov in Tokyo
    ((key, body),) = record_reminders(ctx, "2026-11-23T23:00", sent=True)  # 08:00 on 24 Nov
    assert key == reminder_key(tid, 4)
    assert morning("2026-11-24", 4) in body


def test_two_mails_that_reached_one_date_keep_one_key(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="Asia/Tokyo")
    ((late, _),) = record_reminders(ctx, "2026-11-22T01:30", sent=True)  # day 2 at 10:30 in Tokyo
    ((next_morning, _),) = record_reminders(ctx, "2026-11-22T23:30", sent=True)  # day 3 at 08:30 in Tokyo
    assert (late, next_morning) == (reminder_key(tid, 2), reminder_key(tid, 3))
    # In London both went out on 22 Nov (01:30 and 23:30): that date is day 2, and 23 Nov is still open.
    _set_zone(client, headers, tid, "Europe/London")
    keys = mail_keys(ctx)
    assert reminder_key(tid, 2) in keys
    assert reminder_key(tid, 3) not in keys
    assert sum(k.startswith(f"reminder-superseded:{tid}:") for k in keys) == 1
    assert len(keys) == 2
    ((key, body),) = record_reminders(ctx, "2026-11-23T08:00", sent=True)
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body


def test_reminders_in_the_patients_own_zone_do_not_move(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    r = client.put("/api/v1/reminders", json={"timezone": "Europe/London"}, headers=headers)
    assert r.status_code == 200, r.text
    tid = api_treatment(client, headers, timezone="Asia/Tokyo")
    ((key, _),) = record_reminders(ctx, "2026-11-22T08:30", sent=True)  # 08:30 in London: day 2
    assert key == reminder_key(tid, 2)
    _set_zone(client, headers, tid, "America/New_York")  # the treatment's zone; mails follow London's
    assert mail_keys(ctx) == {reminder_key(tid, 2): "sent"}
    assert record_reminders(ctx, "2026-11-23T07:59", sent=True) == []
    ((key, _),) = record_reminders(ctx, "2026-11-23T08:00", sent=True)  # 08:00 in London, 03:00 in New York
    assert key == reminder_key(tid, 3)
