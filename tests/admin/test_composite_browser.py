"""The composite page as the office reads it in a browser: no sideways scrolling of the
page at 360 or 1280 px, zh and en (QA: the side selects, the quota fieldset and the tie
table pushed the page wider than a phone). Wide tables scroll inside themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from tests.factories import browser_login
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "admin-demo-2026"


@pytest.mark.browser
def test_the_composite_page_fits_both_widths(app, live_server, page):  # noqa: F811
    demo.load(n_responses=300, seed=4)
    cycle = db.session.scalar(select(Cycle))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_login(page, live_server, "admin", PASSWORD)
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        for unit_type in ("community", "service_window"):
            for lang in ("zh", "en"):
                page.goto(
                    f"{live_server}/admin/cycles/{cycle.id}/composite?type={unit_type}&lang={lang}"
                )
                wide = page.evaluate("document.documentElement.scrollWidth")
                page.screenshot(
                    path=str(ARTIFACTS / f"composite-{unit_type}-{width}-{lang}.png"),
                    full_page=True,
                )
                culprits = page.evaluate(
                    """w => [...document.querySelectorAll('main *')].filter(e =>
                        e.getBoundingClientRect().right > w &&
                        !(e.closest('table') && e.closest('table') !== e)
                    ).slice(0, 6).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' +
                        Math.round(e.getBoundingClientRect().right))""",
                    width,
                )
                assert wide <= width, (unit_type, lang, width, wide, culprits)
