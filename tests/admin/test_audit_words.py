"""The audit log in words: sentences in the reader's language, names instead of ids, labels
instead of field names and codes, times in the display zone (issue 17)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.admin.audit_words import CODED, FIELDS, NOUNS, QUIET
from evalsurvey.audit import AUDITED
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Objection, Publication, Unit
from tests.factories import hidden_fields, login

SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|[+]00:00")


def test_every_recorded_column_has_a_label_and_every_record_a_noun():
    # every column of an audited record; a response's status only (nothing else is recorded)
    columns = [(m.__name__, c.key) for m in AUDITED for c in m.__table__.columns]
    for key in [*columns, ("Response", "status")]:
        assert key in FIELDS or key[1] in FIELDS or key[1] in QUIET, key
    assert {m.__name__ for m in AUDITED} <= set(NOUNS)
    assert ("Response", "status") in CODED


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._main = 0

    def handle_starttag(self, tag, attrs):
        self._main += tag == "main"

    def handle_endtag(self, tag):
        self._main -= tag == "main"

    def handle_data(self, data):
        if self._main:
            self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_audit_log_reads_as_sentences(app, client, lang):
    demo.load(n_responses=300, seed=7, history=False)
    cycle = db.session.scalar(select(Cycle))
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    login(client, "admin", "admin-demo-2026")
    url = f"/admin/cycles/{cycle.id}/publish?type=community"
    client.post(url, data=hidden_fields(client.get(url).get_data(as_text=True)))
    published = db.session.scalar(select(Publication))
    assert published is not None
    public = app.test_client()
    disclosure = public.get(f"/p/{cycle.code}/community").get_data(as_text=True)
    unit_code = re.search(r'<option value="([^"]+)"', disclosure).group(1)
    sent = public.post(
        f"/p/{cycle.code}/community",
        data={**hidden_fields(disclosure), "unit": unit_code, "text": "满意度统计有误"},
    )
    assert sent.status_code == 303
    objection = db.session.scalar(select(Objection))
    unit_name = db.session.scalar(select(Unit.name).where(Unit.code == objection.unit_code))

    pages = {
        entity: _text(
            client.get(f"/admin/audit?entity={entity}&lang={lang}").get_data(as_text=True)
        )
        for entity in ("Cycle", "Publication", "Objection", "Finding", "Link", "StaffUser")
    }
    for entity, text in pages.items():
        assert not SNAKE.search(text), (entity, SNAKE.search(text))
        assert not ISO.search(text), (entity, ISO.search(text))
        assert "{'" not in text and "None" not in text and "#" not in text, entity
    published_at = published.published_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert published_at.strftime("%Y-%m-%d %H:%M:%S") in pages["Publication"]
    if lang == "zh":
        assert f"修改考评周期“{cycle.name}”" in pages["Cycle"]
        assert "状态由“进行中”改为“已关闭”" in pages["Cycle"]
        assert f"所属周期：{cycle.name}" in pages["Publication"]
        assert "依据的综合结果：" in pages["Publication"] and "的综合结果（" in pages["Publication"]
        assert "公示的单位：12 个单位" in pages["Publication"]
        assert "异议的内容：满意度统计有误" in pages["Objection"]
        assert "题目：" not in pages["Objection"]
        assert "所涉结果公示：" + cycle.name in pages["Objection"]
        assert "密码：（不显示）" in pages["StaffUser"]
        assert "考核要素：1.1.1 " in pages["Finding"]
    else:
        assert f"Changed cycle “{cycle.name}”" in pages["Cycle"]
        assert "Status changed from “Open” to “Closed”" in pages["Cycle"]
        assert f"Cycle: {cycle.name}" in pages["Publication"]
        assert "Units published: 12 units" in pages["Publication"]
        assert "Objection text: 满意度统计有误" in pages["Objection"]
        assert "Password: (not shown)" in pages["StaffUser"]
    assert unit_name in pages["Objection"]


def test_every_command_that_names_itself_is_named_in_words(app):
    # the actor of a command's changes is shown on the audit page; a raw command name
    # ("import-responses") would be English on a Chinese page
    from pathlib import Path

    from evalsurvey.admin.audit_words import ACTORS, Names

    cli = Path(__file__).parents[2] / "evalsurvey" / "cli"
    named = {
        m
        for f in cli.glob("*.py")
        for m in re.findall(r'set_cli_actor\("([^"]+)"\)', f.read_text(encoding="utf-8"))
    }
    assert named and named <= set(ACTORS)
    with app.test_request_context("/?lang=zh"):
        assert Names([]).actor("import-responses") == "导入答卷（命令行）"
