"""Working days: deadlines that skip weekends and the office's holidays."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta


def add_working_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (Saturdays, Sundays and ``holidays``
    skipped; ``start`` itself does not count).

    Raises ``ValueError`` for a negative number of days.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current
