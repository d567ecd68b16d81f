"""One-to-one feedback reports: what a unit is told, who may read it, frozen at publication,
printable and as a PDF whose text is checked."""

from __future__ import annotations

import io
import re

import pypdf
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.results.analysis import latest_runs
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Response, Role, Unit
from tests.factories import login, make_staff

PASSWORD = "admin-demo-2026"


def _without_time(html: str) -> str:
    """The report as it reads: without the time it was made and the response's CSP nonce."""
    return re.sub(r'(生成于|Made at) [^<]*| nonce="[^"]*"', "", html)


def test_reports_are_previewed_then_frozen_and_read_only_by_their_unit(app, client):
    demo.load(n_responses=500, seed=9)
    cycle = db.session.scalar(select(Cycle))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    mine, other = units["C0101"], units["C0102"]
    url = f"/admin/cycles/{cycle.id}/units/{mine.id}/report"
    contact = app.test_client()
    login(contact, "c0101", PASSWORD)
    waiting = contact.get(url)  # the unit exists: the page, saying when (QA defect 11)
    assert waiting.status_code == 200 and "将在结果公示后提供" in waiting.get_data(as_text=True)
    assert "下载 PDF" not in waiting.get_data(as_text=True)
    pdf_first = contact.get(f"{url}.pdf")  # no PDF yet: the page that says when
    assert pdf_first.status_code == 303 and pdf_first.location.endswith(url)
    assert "返回" in waiting.get_data(as_text=True)  # not a dead end
    login(client, "admin", PASSWORD)
    preview = client.get(url).get_data(as_text=True)
    assert "预览：结果尚未公示" in preview

    # an inspector cannot publish; the admin does, after closing the cycle
    make_staff("insp", Role.INSPECTOR)
    inspector = app.test_client()
    login(inspector, "insp")
    assert inspector.get(f"/admin/cycles/{cycle.id}/publish?type=community").status_code == 403
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    published = publication_domain.publish_results(cycle, "community", "admin")
    db.session.commit()
    report = published.reports["C0101"]
    row = next(r for r in published.rows if r["unit"] == "C0101")
    assert report["score"] == row["score"] and report["label"] == row["label"] != ""

    page = contact.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and mine.name in html
    assert f"{report['score']:g}"[:4] in html and report["label"] in html
    assert "评定理由" in html and "不再变动" in html
    assert contact.get(f"/admin/cycles/{cycle.id}/units/{other.id}/report").status_code == 403
    assert contact.get(f"/admin/cycles/{cycle.id}/units/{other.id}/report.pdf").status_code == 403
    # every deduction with its finding; satisfaction only for groups at the minimum n
    for d in report["deductions"]:
        assert d["element"] in html and d["points"] < d["max"]
    survey = latest_runs(cycle)["community"].result
    for entry in survey["units"]:
        shown = {g["group"] for g in published.reports[entry["unit"]]["groups"]}
        for group, e in entry["groups"].items():
            assert (group in shown) == (e["score"] is not None and e["n_used"] >= 5)
    # comments without any respondent: no response ids, no expert ids, in text order
    ids = db.session.scalars(select(Response.public_id).where(Response.unit_id == mine.id))
    assert not any(i in html for i in ids)
    assert not re.search(r"\bE0[1-8]\b", html)
    assert report["comments"] == sorted(report["comments"])

    # a later change of a finding and a new composite alter no published report
    scheme = scheme_domain.scheme_of(scheme_domain.cycle_scheme(cycle, "community"))
    manual = next(e for e in scheme.elements() if e.rule.type == "manual")
    scheme_domain.record_finding(cycle, mine, manual.code, "0", "复查", "insp", reason="复查")
    db.session.commit()
    composite_domain.run_composite(cycle, "community", "insp")
    assert _without_time(contact.get(url).get_data(as_text=True)) == _without_time(html)

    pdf = contact.get(f"/admin/cycles/{cycle.id}/units/{mine.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "一对一反馈报告" in text and mine.name in text and report["label"] in text
    assert f"{round(report['score'], 2):g}" in text
    english = contact.get(f"/admin/cycles/{cycle.id}/units/{mine.id}/report.pdf?lang=en")
    text_en = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(english.data)).pages)
    assert "One-to-one feedback report" in text_en and mine.name in text_en


def test_the_reports_list_follows_the_scope(app, client):
    demo.load(n_responses=200, seed=4)
    cycle = db.session.scalar(select(Cycle))
    login(client, "c0101", PASSWORD)
    page = client.get(f"/admin/cycles/{cycle.id}/reports?type=community").get_data(as_text=True)
    assert "北池子社区" in page and "C0102" not in page
    assert "将在结果公示后提供" in page


EMOJI_FONT = "Noto Color Emoji"


def _has_font(family: str) -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    return (
        family in subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    )


def _pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def _report_fonts(client, comment: str) -> set[str]:
    """The fonts embedded in C0101's feedback PDF when every comment reads ``comment``
    (the HTML report shows the comment as written)."""
    import pytest

    if not _has_font(EMOJI_FONT):
        pytest.skip(f"{EMOJI_FONT} is not installed (make fonts)")
    demo.load(n_responses=300, seed=9)
    cycle = db.session.scalar(select(Cycle))
    unit = db.session.scalar(select(Unit).where(Unit.code == "C0101"))
    for r in db.session.scalars(select(Response).where(Response.unit_id == unit.id)):
        r.comment = comment
    db.session.commit()
    login(client, "admin", PASSWORD)
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/report"
    assert comment in client.get(url).get_data(as_text=True)
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200
    return _pdf_fonts(pdf.data)


def test_an_emoji_in_a_comment_is_drawn_with_an_emoji_font(app, client):
    """A comment's 👍 was a box: the PDF now embeds a colour emoji font for it, beside the
    CJK font (Debian's fonts-noto-color-emoji, installed by `make fonts`)."""
    fonts = _report_fonts(client, "办事很快👍")
    assert any("Noto-Color-Emoji" in f for f in fonts), fonts
    assert any("WenQuanYi" in f for f in fonts), fonts


def test_the_emoji_font_draws_only_emoji(app, client):
    """Named in the body's font list, the colour emoji font was asked about every digit and
    space and took over the numbers (twice the PDF's drawing time); now it is a face for the
    emoji code points only, so a report without an emoji embeds none of it."""
    fonts = _report_fonts(client, "办事很快，2026 年 12 月 5 日 10:30")
    assert not any("Emoji" in f for f in fonts), fonts
    assert any("WenQuanYi" in f for f in fonts), fonts
