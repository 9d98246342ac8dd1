"""Timeline: series from photos and check-ins, fitted with needlecare.knowledge.curve, drawn as inline SVG."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.testclient import TestClient

from needlecare.chart_axes import ticks
from needlecare.knowledge.curve import CLASSIFICATION_WORDS, fit_recovery
from needlecare.storage.models import Photo
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment

TREATED = dt.date(2026, 11, 1)
RATINGS = [(0, 4), (1, 3), (2, 2), (3, 1), (4, 1), (5, 0)]


def _checkins(client: TestClient, headers: dict[str, str], tid: int, ratings: list[tuple[int, int]]) -> None:
    for day, rating in ratings:
        on = (TREATED + dt.timedelta(days=day)).isoformat()
        r = client.post(
            f"/api/v1/treatments/{tid}/checkins",
            json={"self_rating": rating, "checked_on": on},
            headers=headers,
        )
        assert r.status_code == 201


def _add_photos(
    ctx: WebContext, user_id: int, tid: int, rows: list[tuple[int, float, bool, dict[str, object] | None]]
) -> None:
    """Photo rows with stored analyses: (day, whole-face index, is baseline, baseline comparison or None)."""
    with ctx.sessions() as db:
        for i, (day, index, base, comparison) in enumerate(rows):
            analysis: dict[str, object] = {"redness": {"index": index, "unit": "OD_hb"}}
            if comparison is not None:
                analysis["baseline"] = comparison
            db.add(Photo(
                user_id=user_id, treatment_id=tid, taken_on=TREATED + dt.timedelta(days=day), day=day,
                is_baseline=base, consent="private", file_path=f"{user_id}/p{i}.jpg", width=1, height=1,
                analysis=analysis,
            ))  # fmt: skip
        db.commit()


def test_self_report_series_is_fitted_and_classified(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    _checkins(client, headers, tid, RATINGS)
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    expected_day = data["expected"]["outside_expected_after_days"]
    fit = fit_recovery(
        [d for d, _ in RATINGS],
        [r for _, r in RATINGS],
        baseline=0.0,
        expected_resolution_day=expected_day,
        scale="self_report",
    )
    assert data["self_report"]["fit"]["classification"] == fit.classification == "expected"
    assert [p["value"] for p in data["self_report"]["points"]] == [r for _, r in RATINGS]
    page = client.get(f"/treatments/{tid}/timeline")
    assert page.status_code == 200
    assert '<svg class="chart"' in page.text
    assert '<path class="fit"' in page.text
    assert "Recovering as expected" in page.text
    assert "not a diagnosis" in page.text


def test_worsening_course_is_flagged(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    _checkins(client, headers, tid, [(0, 1), (1, 1), (2, 2), (3, 3), (4, 4), (5, 4)])
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    assert data["self_report"]["fit"]["classification"] == "worsening"
    assert CLASSIFICATION_WORDS["worsening"] in client.get(f"/treatments/{tid}/timeline").text


def test_photo_series_uses_baseline_photo(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    user_id = client.get("/api/v1/auth/me").json()["id"]
    series = [(-1, 0.60, True), (0, 0.80, False), (1, 0.74, False), (2, 0.68, False), (4, 0.62, False)]
    _add_photos(ctx, user_id, tid, [(day, index, base, None) for day, index, base in series])
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    photos = data["photos"]
    assert photos["baseline"] == 0.60
    assert [p["t"] for p in photos["points"]] == [0, 1, 2, 4]
    fit = fit_recovery(
        [0, 1, 2, 4],
        [0.80, 0.74, 0.68, 0.62],
        baseline=0.60,
        expected_resolution_day=data["expected"]["outside_expected_after_days"],
    )
    assert photos["fit"]["classification"] == fit.classification
    assert photos["fit"]["resolution_day"] == round(fit.resolution_day, 3)


def test_too_few_points_explain_themselves(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    _checkins(client, headers, tid, RATINGS[:2])
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    assert data["self_report"]["fit"] is None
    assert "at least 3" in data["self_report"]["note"]
    assert "baseline" in data["photos"]["note"]


def test_ticks_are_round_and_cover_the_range() -> None:
    assert ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert ticks(0.55, 0.85, 4) == [0.6, 0.7, 0.8]
    assert ticks(3, 3) == [3]


def test_photo_under_different_light_is_plotted_but_not_fitted(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    user_id = client.get("/api/v1/auth/me").json()["id"]
    # day 2 was taken under other light: its index jumped with the white balance
    series = [(-1, 0.60, None), (0, 0.80, True), (1, 0.74, True), (2, 0.95, False), (3, 0.66, True),
              (4, 0.62, True)]  # fmt: skip
    _add_photos(ctx, user_id, tid, [
        (day, index, comparable is None, None if comparable is None else
         {"delta": index - 0.60, "lighting_differs": not comparable, "comparable": comparable, "notes": []})
        for day, index, comparable in series
    ])  # fmt: skip
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    points = data["photos"]["points"]
    assert [p["t"] for p in points] == [0, 1, 2, 3, 4]
    assert [p["used"] for p in points] == [True, True, False, True, True]
    assert "different light" in points[2]["note"]
    assert points[0]["note"] is None
    fit = fit_recovery(
        [0, 1, 3, 4],
        [0.80, 0.74, 0.66, 0.62],
        baseline=0.60,
        expected_resolution_day=data["expected"]["outside_expected_after_days"],
    )
    assert data["photos"]["fit"]["resolution_day"] == round(fit.resolution_day, 3)
    page = client.get(f"/treatments/{tid}/timeline").text
    assert page.count('class="point excluded"') == 1
    assert "day 2: 0.95 (not used for the curve)" in page
    assert "different light from the baseline photo" in page


def test_photo_chart_marks_the_just_visible_redness(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    user_id = client.get("/api/v1/auth/me").json()["id"]
    comparison: dict[str, object] = {"visible_delta": 0.185, "comparable": True}
    _add_photos(
        ctx,
        user_id,
        tid,
        [(-1, 0.60, True, None), (1, 0.90, False, comparison), (3, 0.70, False, comparison)],
    )
    data = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    assert data["photos"]["visible_line"] == pytest.approx(0.785)
    page = client.get(f"/treatments/{tid}/timeline").text
    assert page.count('class="visible"') == 1
    assert "just visible" in page
    assert "an index of 0.785: a rise in CIELAB a* of 2.5" in page
    assert "Wilhelm et al. (COLIPA), 2001" in page


def test_a_photo_with_several_faces_is_left_out_with_its_own_reason() -> None:
    from needlecare.storage.photo_analysis import parse_analysis
    from needlecare.web.timeline.service import not_comparable_reason

    several = parse_analysis({"face": {"faces_found": 2}, "baseline": {"comparable": False}})
    other_light = parse_analysis({"face": {"faces_found": 1}, "baseline": {"comparable": False}})
    reason = not_comparable_reason(several)
    assert reason is not None
    assert "More than one face" in reason
    assert "yourself alone" in reason
    assert "different light" in (not_comparable_reason(other_light) or "")
    both_compared = parse_analysis({"face": {"faces_found": 2}, "baseline": {"comparable": True}})
    assert not_comparable_reason(both_compared) is None


def test_the_photo_page_says_the_trend_since_the_last_comparable_photo() -> None:
    from types import SimpleNamespace

    from needlecare.storage.photo_analysis import parse_analysis
    from needlecare.web.photos.pages import _trend

    def photo(pid: int, day: int, change: float | None, comparable: bool = True) -> Any:
        baseline = None if change is None else {"delta_a_star": change, "comparable": comparable}
        return SimpleNamespace(
            id=pid, day=day, is_baseline=False, taken_on=dt.date(2026, 11, 1) + dt.timedelta(days=day),
            analysis=parse_analysis({"baseline": baseline}),
        )  # fmt: skip

    day2, day4, day5 = photo(1, 2, 6.0), photo(2, 4, 5.5, comparable=False), photo(3, 5, 2.0)
    photos = [day2, day4, day5]
    assert _trend(day5, photos) == "Since your photo of day 2: less red than then."  # day 4 not comparable
    assert _trend(day2, photos) == ""  # nothing earlier
    assert _trend(photo(4, 6, 2.5), [*photos]) == "Since your photo of day 5: about as red as then."
    assert _trend(photo(5, 7, 5.0), photos) == "Since your photo of day 5: redder than then."
