"""Measure many photos in parallel processes, results in input order (``needlecare analyze --jobs N``).

Each worker process starts MediaPipe once (in its initializer) and then measures one photo per task; the
baseline report, when there is one, is handed to each worker once at start-up. Workers are started with
``spawn``: the parent may already run MediaPipe's threads (a baseline measured before), which a forked child
would inherit in an undefined state.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from needlecare.analysis.report import PhotoReport
from needlecare.imaging.errors import PhotoError
from needlecare.machine import cpu_cores

__all__ = ["BatchAnalyzer", "analyse_one", "default_jobs"]

#: Tasks handed to the pool ahead of the one whose result is awaited, per worker (keeps workers busy while
#: bounding the results held in memory).
AHEAD_PER_WORKER = 2

_baseline: PhotoReport | None = None


def default_jobs() -> int:
    """The number of CPU cores this process may run on (at least 1)."""
    return cpu_cores()


def analyse_one(
    path: str, stem: str, baseline: PhotoReport | None, heatmap_dir: Path | None
) -> tuple[dict[str, Any], bool]:
    """One photo as the ``analyze --json`` object, and whether it failed (a photo or output error).

    Parameters
    ----------
    path
        The photo.
    stem
        File stem for its pictures.
    baseline
        The baseline photo's report, or None.
    heatmap_dir
        Where to write its pictures, or None for none.
    """
    from needlecare.analysis.pictures import write_pictures
    from needlecare.analysis.pipeline import analyze_photo

    try:
        report = analyze_photo(path, baseline=baseline)
        result = report.to_dict()
        if heatmap_dir is not None:
            written = write_pictures(report, baseline, heatmap_dir, stem)
            result["pictures"] = [str(p) for p in written]
    except PhotoError as error:
        return {"photo": path, "error": error.to_dict()}, True
    except OSError as error:  # e.g. heatmap directory not writable
        return {
            "photo": path,
            "error": {"code": "unsupported", "message": f"cannot write pictures: {error}"},
        }, True
    return result, False


def _start_worker(baseline: PhotoReport | None) -> None:
    """Pool initializer: keep the baseline and start MediaPipe's graphs (once per process)."""
    global _baseline
    import cv2

    from needlecare.imaging import parallel
    from needlecare.imaging.face import warm_up

    # One OpenCV thread, and one thread per photo, per worker: the workers already keep every core busy,
    # and more threads than cores only add switching.
    cv2.setNumThreads(1)
    parallel.set_threads(1)
    _baseline = baseline
    warm_up()


def _task(path: str, stem: str, heatmap_dir: Path | None) -> tuple[dict[str, Any], bool]:
    return analyse_one(path, stem, _baseline, heatmap_dir)


class BatchAnalyzer:
    """A pool of *jobs* worker processes measuring photos; use as a context manager.

    With ``jobs == 1`` photos are measured in this process, one after the other.

    Parameters
    ----------
    jobs
        Worker processes (>= 1).
    baseline
        The baseline report every photo is compared with, or None.
    heatmap_dir
        Where to write pictures, or None.
    """

    def __init__(self, jobs: int, baseline: PhotoReport | None = None, heatmap_dir: Path | None = None):
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.baseline = baseline
        self.heatmap_dir = heatmap_dir
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> BatchAnalyzer:
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.baseline,),
            )
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def warm_up(self) -> None:
        """Start every worker process (and MediaPipe in it) now rather than with the first photos."""
        if self._pool is None:
            from needlecare.imaging.face import warm_up

            warm_up()
            return
        for future in [self._pool.submit(_noop) for _ in range(self.jobs)]:
            future.result()

    def map(self, paths: list[str], stems: list[str]) -> Iterator[tuple[dict[str, Any], bool]]:
        """``(result, failed)`` of :func:`analyse_one` for each photo, in the order of *paths*.

        Results are yielded as soon as every photo before them is done.
        """
        if self._pool is None:
            for path, stem in zip(paths, stems, strict=True):
                yield analyse_one(path, stem, self.baseline, self.heatmap_dir)
            return
        pending: list[Future[tuple[dict[str, Any], bool]]] = []
        items = iter(zip(paths, stems, strict=True))
        limit = AHEAD_PER_WORKER * self.jobs
        for path, stem in items:
            pending.append(self._pool.submit(_task, path, stem, self.heatmap_dir))
            if len(pending) >= limit:
                break
        while pending:
            result = pending.pop(0).result()
            following = next(items, None)
            if following is not None:
                pending.append(self._pool.submit(_task, *following, self.heatmap_dir))
            yield result


def _noop() -> None:
    return None
