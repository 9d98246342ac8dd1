"""Baseline-delta error under day-to-day changes, on the six ground-truth faces: prints a table.

Each face (tests/fixtures/faces) at 0.8x exposure is the baseline; follow-ups add haemoglobin of 0, 0.1 and
0.2 OD_hb over the whole measured skin and then one change (tests/analysis/day_to_day.py). Printed per
change: the median, 90th percentile and largest absolute error of the comparable deltas (OD_hb), the
refusal rate (not comparable) and how often the light was matched.

With ``--melanin`` it prints instead, per face, how much the single-photo index moves when melanin of the
same optical density as a haemoglobin dose (0.3 OD along each unit direction, under the feathered skin
weight of tests/analysis/test_ground_truth.py) is added, as a fraction of the haemoglobin response.

Usage: ``.venv/bin/python benchmarks/bench_baseline_delta.py [--faces obama.jpg ...] [--changes warm ...]
[--melanin]``.
Nothing here asserts; the tests in tests/analysis/test_day_to_day.py assert the goal figures on a subset.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "analysis"))

from day_to_day import Outcome, run_face, summary  # noqa: E402
from face_fixtures import GROUND_TRUTH_FACES, load_face  # noqa: E402
from test_ground_truth import RATIO_DOSE, index_of, skin_weight, whole_skin_weight  # noqa: E402

FACES_DIR = REPO / "tests" / "fixtures" / "faces"


def _table(outcomes: list[Outcome]) -> None:
    changes = list(dict.fromkeys(o.change for o in outcomes))
    print(f"{'change':<14} {'n':>3} {'median':>7} {'p90':>7} {'max':>7} {'refused':>8} {'matched':>8}")
    for change in [*changes, "ALL"]:
        chosen = [o for o in outcomes if change in ("ALL", o.change)]
        s = summary(chosen)
        matched = sum(o.matched for o in chosen) / len(chosen)
        print(
            f"{change:<14} {len(chosen):>3} {s['median']:>7.4f} {s['p90']:>7.4f} {s['max']:>7.4f} "
            f"{s['refused']:>7.0%} {matched:>7.0%}"
        )


def _melanin(faces: list[str]) -> None:
    from synthetic import add_absorption

    from needlecare.imaging.redness import chromophores

    directions = chromophores()
    leaks = []
    for name in faces:
        face = load_face(FACES_DIR, name)
        weight = skin_weight(face)
        base = index_of(face.rgb)
        hb = index_of(add_absorption(face.rgb, weight, directions.haemoglobin, RATIO_DOSE)) - base
        melanin = index_of(add_absorption(face.rgb, weight, directions.melanin, RATIO_DOSE)) - base
        leaks.append(abs(melanin / hb))
        print(f"{name:<20} haemoglobin {hb:+.4f}  melanin {melanin:+.4f}  leak {melanin / hb:+.2%}")
    print(f"median leak {np.median(leaks):.2%}, largest {max(leaks):.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", nargs="*", default=list(GROUND_TRUTH_FACES))
    parser.add_argument("--changes", nargs="*", default=[])
    parser.add_argument("--verbose", action="store_true", help="print every outcome")
    parser.add_argument("--melanin", action="store_true", help="print the melanin leak instead")
    args = parser.parse_args()
    if args.melanin:
        _melanin(args.faces)
        return
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for name in args.faces:
        face = load_face(FACES_DIR, name)
        centre = tuple(np.argwhere(face.regions.skin).mean(axis=0)[::-1].tolist())
        found = run_face(name, face.rgb, whole_skin_weight(face), centre, tuple(args.changes))
        if args.verbose:
            for o in found:
                print(
                    f"{o.face:<20} {o.change:<14} {o.dose:.1f} err {o.error:+.4f} "
                    f"comparable {o.comparable!s:<5} matched {o.matched!s:<5} differs {o.lighting_differs}"
                )
        outcomes += found
    _table(outcomes)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
