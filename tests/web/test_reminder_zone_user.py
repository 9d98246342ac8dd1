"""The patient's own reminder time zone (set, changed or cleared on the reminders page or API) moves the
reminders of each treatment whose reminders it moves: one not sent yet goes out at the new zone's reminder
hour, and a local date that already had its mail is not mailed twice."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.testclient import TestClient

from needlecare.jobs.reminders import reminder_key
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment, new_client, page_csrf
from .reminder_runs import mail_keys, morning, record_reminders


def _set_my_zone(client: TestClient, headers: dict[str, str], zone: str | None) -> None:
    r = client.put("/api/v1/reminders", json={"timezone": zone}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == zone


def test_an_unsent_reminder_moves_to_the_morning_of_the_zone_the_patient_sets(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")  # 20 Nov; no zone of their own yet
    ((key, _),) = record_reminders(ctx, "2026-11-23T09:00", sent=False)  # 09:00 in UTC: day 3 is due
    assert key == reminder_key(tid, 3)
    _set_my_zone(client, headers, "America/New_York")  # UTC-5 in November
    assert mail_keys(ctx) == {}  # recorded for UTC's morning: withdrawn
    assert record_reminders(ctx, "2026-11-23T09:01", sent=False) == []  # 04:01 in New York
    assert record_reminders(ctx, "2026-11-23T12:59", sent=False) == []  # 07:59
    ((key, body),) = record_reminders(ctx, "2026-11-23T13:00", sent=False)  # 08:00 in New York
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body
    assert record_reminders(ctx, "2026-11-23T20:00", sent=False) == []  # once


def test_a_date_that_had_its_mail_is_not_mailed_again_in_the_zone_the_patient_sets(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="America/Los_Angeles")  # UTC-8
    ((key, _),) = record_reminders(ctx, "2026-11-22T16:30", sent=True)  # 08:30 on 22 Nov in Los Angeles
    assert key == reminder_key(tid, 2)
    # In Tokyo that mail arrived at 01:30 on 23 Nov: 23 Nov (day 3) had its mail, 24 Nov has not.
    _set_my_zone(client, headers, "Asia/Tokyo")
    assert mail_keys(ctx) == {reminder_key(tid, 3): "sent"}
    assert record_reminders(ctx, "2026-11-23T00:30", sent=True) == []  # 09:30 on 23 Nov in Tokyo
    assert record_reminders(ctx, "2026-11-23T14:59", sent=True) == []  # 23:59
    ((key, body),) = record_reminders(ctx, "2026-11-23T23:00", sent=True)  # 08:00 on 24 Nov
    assert key == reminder_key(tid, 4)
    assert morning("2026-11-24", 4) in body


def test_changing_and_clearing_the_patients_zone_move_the_reminders(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    _set_my_zone(client, headers, "Europe/London")
    tid = api_treatment(client, headers, timezone="Asia/Tokyo")  # mails follow London's mornings
    ((key, _),) = record_reminders(ctx, "2026-11-21T08:00", sent=True)  # 21 Nov in London: day 1
    assert key == reminder_key(tid, 1)
    ((key, _),) = record_reminders(ctx, "2026-11-22T09:00", sent=False)  # day 2, not sent yet
    assert key == reminder_key(tid, 2)

    # London -> New York: day 1's mail (08:00 London) reached New York at 03:00 on 21 Nov, still day 1
    _set_my_zone(client, headers, "America/New_York")
    assert mail_keys(ctx) == {reminder_key(tid, 1): "sent"}
    assert record_reminders(ctx, "2026-11-22T12:59", sent=True) == []  # 07:59 in New York
    ((key, body),) = record_reminders(ctx, "2026-11-22T13:00", sent=True)  # 08:00 on 22 Nov
    assert key == reminder_key(tid, 2)
    assert morning("2026-11-22", 2) in body

    # Cleared: the treatment's zone again. 13:00 UTC on 22 Nov was 22:00 on 22 Nov in Tokyo: still day 2,
    # and 08:00 London on 21 Nov was 17:00 on 21 Nov in Tokyo: still day 1.
    _set_my_zone(client, headers, None)
    assert mail_keys(ctx) == {reminder_key(tid, 1): "sent", reminder_key(tid, 2): "sent"}
    assert record_reminders(ctx, "2026-11-22T15:00", sent=True) == []  # 00:00 on 23 Nov in Tokyo
    ((key, body),) = record_reminders(ctx, "2026-11-22T23:00", sent=True)  # 08:00 on 23 Nov in Tokyo
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body
    assert set(mail_keys(ctx).values()) == {"sent"}
    assert len(mail_keys(ctx)) == 3


def test_clearing_the_zone_moves_a_sent_reminder_to_the_date_it_reached_in_the_treatments_zone(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    _set_my_zone(client, headers, "Asia/Tokyo")
    tid = api_treatment(client, headers, timezone="America/Los_Angeles")
    ((key, _),) = record_reminders(ctx, "2026-11-22T23:30", sent=True)  # 08:30 on 23 Nov in Tokyo: day 3
    assert key == reminder_key(tid, 3)
    # In Los Angeles that mail arrived at 15:30 on 22 Nov: 22 Nov (day 2) had its mail, 23 Nov is open.
    _set_my_zone(client, headers, None)
    assert mail_keys(ctx) == {reminder_key(tid, 2): "sent"}
    assert record_reminders(ctx, "2026-11-23T15:59", sent=True) == []  # 07:59 on 23 Nov in Los Angeles
    ((key, body),) = record_reminders(ctx, "2026-11-23T16:00", sent=True)  # 08:00 on 23 Nov
    assert key == reminder_key(tid, 3)
    assert morning("2026-11-23", 3) in body


def test_only_treatments_whose_reminder_zone_changes_are_rescheduled(
    app: FastAPI, client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    utc = api_treatment(client, headers, timezone="UTC")
    new_york = api_treatment(client, headers, timezone="America/New_York")
    with new_client(app) as other:  # another patient in UTC
        other_tid = api_treatment(other, api_signup(other, "bob@example.org"), timezone="UTC")
    recorded = [key for key, _ in record_reminders(ctx, "2026-11-23T09:00", sent=False)]
    assert recorded == [reminder_key(t, 3) for t in (utc, other_tid)]  # 09:00 in UTC, 04:00 in New York
    recorded = [key for key, _ in record_reminders(ctx, "2026-11-23T13:00", sent=False)]
    assert recorded == [reminder_key(new_york, 3)]  # 08:00 in New York

    _set_my_zone(client, headers, "America/New_York")  # moves the UTC treatment's reminders only
    assert mail_keys(ctx) == {reminder_key(new_york, 3): "queued", reminder_key(other_tid, 3): "queued"}
    ((key, _),) = record_reminders(ctx, "2026-11-23T13:01", sent=False)  # 08:01 in New York
    assert key == reminder_key(utc, 3)

    _set_my_zone(client, headers, "America/New_York")  # saved again unchanged: nothing moves
    assert len(mail_keys(ctx)) == 3
    assert set(mail_keys(ctx).values()) == {"queued"}


def test_the_reminders_page_moves_them_and_a_refused_zone_moves_nothing(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")
    record_reminders(ctx, "2026-11-23T09:00", sent=False)
    before = mail_keys(ctx)
    assert before == {reminder_key(tid, 3): "queued"}

    r = client.put("/api/v1/reminders", json={"timezone": "Mars/Olympus"}, headers=headers)
    assert r.status_code == 422
    token = page_csrf(client, "/reminders")
    r = client.post(
        "/reminders", data={"csrf_token": token, "timezone": "Mars/Olympus", "reminders_enabled": "true"}
    )
    assert r.status_code == 422
    assert mail_keys(ctx) == before

    data = {"csrf_token": token, "timezone": "Asia/Tokyo", "reminders_enabled": "true"}
    r = client.post("/reminders", data=data)
    assert (r.status_code, r.headers["location"]) == (303, "/reminders?saved=1")
    assert mail_keys(ctx) == {}  # the unsent mail moves to Tokyo's mornings
    # 09:01 UTC is 18:01 in Tokyo: day 3's morning there is over, so the next mail is day 4's at 08:00
    assert record_reminders(ctx, "2026-11-23T09:01", sent=False) == []
    ((key, body),) = record_reminders(ctx, "2026-11-23T23:01", sent=False)
    assert key == reminder_key(tid, 4)
    assert morning("2026-11-24", 4) in body
