"""Working days follow China's calendar: holidays off, make-up working days (调休) on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from evalsurvey.domain.assessment import ledger as ledger_domain
from evalsurvey.extensions import db
from evalsurvey.models import RectificationItem
from evalsurvey.scoring.workdays import WorkCalendar, add_working_days, china_calendar
from tests.factories import make_link, make_response, make_unit


def test_spring_festival_and_its_make_up_saturday():
    china = china_calendar()
    friday = date(2026, 2, 13)
    # Saturday 14 February 2026 is worked (调休); 16–23 February are the Spring Festival
    assert add_working_days(friday, 1, china) == date(2026, 2, 14)
    assert add_working_days(friday, 2, china) == date(2026, 2, 24)
    # weekends only would say Monday 16 February, in the middle of the holiday
    assert add_working_days(friday, 1) == date(2026, 2, 16)


def test_national_day_and_its_make_up_weekend_days():
    china = china_calendar()
    # Sunday 20 September 2026 is worked
    assert add_working_days(date(2026, 9, 18), 1, china) == date(2026, 9, 20)
    # 1–7 October off, Saturday 10 October worked
    assert add_working_days(date(2026, 9, 30), 1, china) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3, china) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 10), 1, china) == date(2026, 10, 12)


def test_the_office_lists_win_over_the_package():
    # a year the package may not know: the office enters its days; its entries win
    calendar = china_calendar(holidays=[date(2027, 1, 11)], workdays=[date(2027, 1, 9)])
    assert add_working_days(date(2027, 1, 8), 1, calendar) == date(2027, 1, 9)  # a Saturday
    assert add_working_days(date(2027, 1, 9), 1, calendar) == date(2027, 1, 12)
    # the office may also undo a package day
    undone = china_calendar(holidays=[date(2026, 2, 14)], workdays=[date(2026, 2, 16)])
    assert add_working_days(date(2026, 2, 13), 1, undone) == date(2026, 2, 16)
    assert not WorkCalendar().is_working_day(date(2026, 2, 14))


def test_ledger_deadlines_count_the_make_up_saturday(app):
    app.config.update(REVIEW_VISIT_DAYS=1, REVIEW_FIX_DAYS=2, HOLIDAYS=[], WORKDAYS=[])
    link = make_link(unit=make_unit("W1"))
    friday = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)  # 10:00 on a Friday in Beijing
    make_response(link, {"attitude": 1, "speed": 3}, when=friday).comment = "没人管"
    db.session.commit()
    assert ledger_domain.follow_up_bad_reviews(link.cycle) == 1
    item = db.session.scalar(select(RectificationItem))
    # the return visit on the worked Saturday; the fix after the Spring Festival
    assert item.visit_due_on == date(2026, 2, 14) and item.due_on == date(2026, 2, 24)


def test_ledger_deadlines_take_the_office_workdays_setting(app):
    app.config.update(REVIEW_VISIT_DAYS=1, REVIEW_FIX_DAYS=1, WORKDAYS=["2027-01-09"])
    link = make_link(unit=make_unit("W1"))
    friday = datetime(2027, 1, 8, 2, 0, tzinfo=UTC)
    make_response(link, {"attitude": 1, "speed": 3}, when=friday).comment = "没人管"
    db.session.commit()
    ledger_domain.follow_up_bad_reviews(link.cycle)
    item = db.session.scalar(select(RectificationItem))
    assert item.due_on == date(2027, 1, 9)
