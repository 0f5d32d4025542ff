"""Pausing Python's cycle collector while an import builds and stores its rows.

An Anki package with its history makes hundreds of thousands of small objects (notes, cards,
review-log rows, the tuples stored), none of them in a reference cycle: reference counting
frees them all. While so many live at once, the cycle collector still walks them again and
again (every 700 allocations a young collection, and full ones as the heap grows), which
took about 40% of a 10,000-card package's history replay. The import's phases therefore run
with it paused; it runs again as before afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


def without_cycle_collection(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """``function`` run with the cycle collector paused (when it was on; an error inside
    ``function`` still turns it back on)."""

    @wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
