"""Working days: deadlines that skip weekends and holidays and count make-up working days.

China moves working days around its public holidays (调休): a Saturday or Sunday may be a
working day and a weekday a holiday. ``WorkCalendar`` holds both lists; ``china_calendar``
seeds them from the maintained ``chinesecalendar`` package (the State Council's yearly
notice) and lets the office's own lists win, e.g. for a year the package does not know yet.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class WorkCalendar:
    """Monday to Friday are working days, except ``holidays``; ``workdays`` (make-up working
    days, usually weekends) are working days whatever their weekday."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def china_calendar(holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkCalendar:
    """China's public holidays and make-up working days from ``chinesecalendar``, with the
    office's ``holidays`` and ``workdays`` on top (an office entry wins over the package's)."""
    own_off, own_on = set(holidays), set(workdays)
    off = (set(chinese_calendar.constants.holidays) - own_on) | own_off
    on = (set(chinese_calendar.constants.workdays) - own_off) | own_on
    return WorkCalendar(frozenset(off - own_on), frozenset(on))


def add_working_days(
    start: date, days: int, holidays: Collection[date] | WorkCalendar = ()
) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    ``holidays`` is a ``WorkCalendar`` or just a collection of holidays (weekends then
    always off). Raises ``ValueError`` for a negative number of days.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    calendar = holidays if isinstance(holidays, WorkCalendar) else WorkCalendar(frozenset(holidays))
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            left -= 1
    return current
