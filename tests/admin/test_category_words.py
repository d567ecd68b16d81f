"""Rule categories in words (issue 17): a per-occurrence rule and a finding's value name
their categories (街道级, 经认定的项目 …) on the unit's pages, its report and the grid, in
Chinese and English; a value may be written with a name as well as the code."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Finding, Unit
from evalsurvey.scoring.categories import NAMES, category_code, value_words
from tests.factories import login

CODES = re.compile(r"\b(?:street|district|city|piece|project|recognised|case)\b")


def test_names_and_values():
    assert value_words("recognised:1;city:2") == "经认定的项目 ×1，市级 ×2"
    assert value_words("recognised:1", "en") == "recognised item ×1"
    assert value_words("0.5") == "0.5" and value_words("") == ""
    assert category_code("街道级", ["street", "city"]) == "street"
    assert category_code(" Street  Level ", ["street"]) == "street"
    assert category_code("县级", ["street"]) is None
    zh = [names[0] for names in NAMES.values()]
    assert len(set(zh)) == len(zh)  # a name reads back as one code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unit_pages_and_report_say_categories_in_words(app, client, lang):
    demo.load(n_responses=300, seed=7, history=False)
    cycle = db.session.scalar(select(Cycle))
    finding = db.session.scalar(select(Finding).where(Finding.element == "B1"))
    unit = db.session.get(Unit, finding.unit_id)
    login(client, "admin", "admin-demo-2026")
    words = "经认定的项目" if lang == "zh" else "recognised item"
    for url in (
        f"/admin/cycles/{cycle.id}/units/{unit.id}",
        f"/admin/cycles/{cycle.id}/units/{unit.id}/findings",
        f"/admin/cycles/{cycle.id}/units/{unit.id}/report",
    ):
        page = client.get(f"{url}?lang={lang}")
        assert page.status_code == 200, url
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", page.get_data(as_text=True),
                      flags=re.S)  # fmt: skip
        if url.endswith("/findings"):  # the typed value stays as stored in its box
            text = re.sub(r'value="[^"]*"', "", text)
        assert words in text, url
        for _zh, en in NAMES.values():  # English names hold words like the codes
            text = text.replace(en, " ").replace(en.capitalize(), " ")
        assert not CODES.search(text), (url, CODES.search(text))
