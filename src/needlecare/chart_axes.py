"""Chart axes shared by the web's SVG charts and the PDF report's charts: round tick values."""

from __future__ import annotations

import math


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] with about *count* steps (1, 2, 2.5, 5 x 10^k).

    >>> ticks(0, 10)
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    if hi <= lo:
        return [float(lo)]
    raw = (hi - lo) / count
    base = 10.0 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * base >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]
