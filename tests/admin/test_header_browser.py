"""The staff header on a phone: its links wrap onto lines of their own and never lie over one
another, in Chinese and English (QA: at 360 px the English header overlapped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalsurvey import demo
from tests.factories import browser_login
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

OVERLAPS = """() => {
    const boxes = [...document.querySelectorAll('header > *')]
        .map(e => [e, e.getBoundingClientRect()]);
    const out = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, r] = boxes[i], [b, s] = boxes[j];
        if (r.left < s.right - 0.5 && s.left < r.right - 0.5 &&
            r.top < s.bottom - 0.5 && s.top < r.bottom - 0.5)
            out.push(a.textContent.trim() + ' / ' + b.textContent.trim());
    }
    return out;
}"""


@pytest.mark.browser
def test_the_staff_header_fits_a_phone(app, live_server, page):  # noqa: F811
    demo.load(n_responses=100, seed=4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_login(page, live_server, "admin", "admin-demo-2026")
    for width, height in ((360, 740), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        for lang in ("zh", "en"):
            page.goto(f"{live_server}/admin/?lang={lang}")
            page.screenshot(path=str(ARTIFACTS / f"header-{width}-{lang}.png"))
            assert page.evaluate(OVERLAPS) == [], (width, lang)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, lang)
