"""`evalsurvey info` (what `make run` prints) gives a newcomer a questionnaire that answers
(issue 16, defect 4): with the demo's history it printed a link of the closed 2026H1 cycle,
whose first click answered 410."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Link, LinkMode


def test_info_prints_a_questionnaire_of_the_open_cycle(app, runner, client):
    # as `make run` loads it: `evalsurvey demo --if-empty`, the history included by default
    loaded = runner.invoke(args=["demo", "--responses", "200", "--if-empty"])
    assert loaded.exit_code == 0, loaded.output
    cycles = {c.code: c for c in db.session.scalars(select(Cycle))}
    assert cycles["2026H1"].status == CycleStatus.PUBLISHED  # the history is there
    assert cycles["2026H2"].status == CycleStatus.OPEN
    info = runner.invoke(args=["info"])
    assert info.exit_code == 0, info.output
    urls = re.findall(r"https?://[^\s/]+/[si]/[A-Za-z0-9_-]+", info.output)
    assert urls, info.output
    for url in urls:
        path = urlsplit(url).path
        page = client.get(path)
        assert page.status_code == 200, (url, page.status_code)
        assert "<form" in page.get_data(as_text=True)  # the questionnaire, ready to answer
        link = db.session.scalar(select(Link).where(Link.code == path.rsplit("/", 1)[1]))
        assert link.mode == LinkMode.PUBLIC and link.cycle.code == "2026H2"
        assert link.unit.name in info.output


def test_info_says_when_no_questionnaire_is_open(app, runner):
    loaded = runner.invoke(args=["demo", "--responses", "60", "--no-history"])
    assert loaded.exit_code == 0, loaded.output
    for link in db.session.scalars(select(Link)):
        link.active = False
    db.session.commit()
    info = runner.invoke(args=["info"])
    assert info.exit_code == 0
    assert "/s/" not in info.output and "No questionnaire is open" in info.output
