"""Evidence files that fit (issue 17): a file up to the size the form states is taken on
every page that takes evidence (a finding, a ledger item, a department's adjustment); a
larger one, or one that is not the file its name says, comes back as the form page with
what was typed and a sentence naming the limit by the file field — never the bare "too
large" page. Every file here is made in the test, and real (tests/evidence_samples.py)."""

from __future__ import annotations

import io
import os
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from evalsurvey.config import ConfigError
from evalsurvey.domain.assessment import ledger as ledger_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.assessment.evidence import EvidenceTooLarge, check_evidence
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, Finding, RectificationItem, Role
from tests import evidence_samples as samples
from tests.admin.test_assessment import _assessed_cycle
from tests.admin.test_consultation import _complete
from tests.factories import hidden_fields, login, make_staff, make_unit

MB = samples.MB
NOTE = "会议记录已补齐，附签到表"  # what a person typed, to be found again on a refused form


def _files(app) -> list[str]:
    found = []
    for folder, _dirs, names in os.walk(app.config["EVIDENCE_FOLDER"]):
        found += [os.path.join(folder, n) for n in names]
    return found


def _post(client, url: str, fields: dict, data: bytes, name: str, lang: str = "zh"):
    """The page's form with ``fields`` typed and ``data`` as the evidence file, encoded in
    memory (the test client's own encoder leaves a temporary file open above 500 KB)."""
    hidden = hidden_fields(client.get(url).get_data(as_text=True))
    values = MultiDict({**hidden, **fields, "evidence": FileStorage(io.BytesIO(data), name)})
    boundary, body = encode_multipart(values)
    return client.post(
        f"{url}?lang={lang}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _error_by_evidence(html: str) -> str | None:
    """The message right after the evidence file input, or None."""
    found = re.search(r'<input[^>]*name="evidence"[^>]*>\s*<div class="err">([^<]*)</div>', html)
    return found.group(1) if found else None


def _finding_page(client):
    cycle, _version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    fields = {"element": "1.1", "value": "1", "note": NOTE, "reason": ""}
    return f"/admin/cycles/{cycle.id}/units/{unit.id}", fields, Finding


def _ledger_page(client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    for element in scheme_domain.scheme_of(version).elements():
        value = "1" if element.rule.type == "tiers" else ("2" if element.code == "1.1" else "0")
        scheme_domain.record_finding(cycle, unit, element.code, value, "", "insp")
    db.session.commit()
    ledger_domain.propose_from_deductions(cycle, "agency_branch")
    db.session.commit()
    item = db.session.scalar(select(RectificationItem))
    make_staff("contact", Role.UNIT_CONTACT, unit=unit)
    login(client, "contact")
    # the unit answers a confirmed item with its record
    item.status, item.owner = "open", "张三"
    db.session.commit()
    fields = {"status": "submitted", "note": NOTE}
    return f"/admin/ledger/{item.id}", fields, RectificationItem


def _consultation_page(client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    make_staff("petitions", Role.DEPARTMENT)
    login(client, "petitions")
    fields = {"action": "submit", "unit": "B1", "item": "agency_branch/P1",
              "value": "criticised:1", "reason": NOTE}  # fmt: skip
    return f"/admin/cycles/{cycle.id}/consultation", fields, Adjustment


PAGES = {"finding": _finding_page, "ledger": _ledger_page, "consultation": _consultation_page}


def _saved(model) -> bool:
    """Whether the page's action was stored with its evidence."""
    return bool(db.session.scalar(select(func.count()).select_from(model).where(
        model.evidence != "")))  # fmt: skip


def _taken(app, accepted, model, data: bytes) -> None:
    """The post was saved with its file, stored byte for byte."""
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert _saved(model)
    (stored,) = _files(app)
    with open(stored, "rb") as fh:
        assert fh.read() == data


@pytest.mark.parametrize("page", PAGES)
def test_a_9_mb_pdf_is_taken_and_an_11_mb_one_comes_back_with_the_text(app, client, page):
    url, fields, model = PAGES[page](client)
    form = client.get(url).get_data(as_text=True)
    assert "10 MB 以内" in form  # the form states the limit

    big = samples.pdf(11 * MB)
    refused = _post(client, url, fields, big, "scan.pdf")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert "内容过大" not in html and "<form" in html  # the form page, not the error page
    assert NOTE in html  # what was typed is still there
    assert _error_by_evidence(html) == (
        "文件超过 10 MB 的上限，没有保存。请压缩或拆分后重新选择文件。"
    )
    assert not _saved(model) and _files(app) == []

    english = _post(client, url, fields, big, "scan.pdf", lang="en")
    assert english.status_code == 413
    assert _error_by_evidence(english.get_data(as_text=True)).startswith(
        "The file is larger than the 10 MB limit"
    )

    taken = samples.pdf(9 * MB)
    assert 9 * MB <= len(taken) < 10 * MB
    _taken(app, _post(client, url, fields, taken, "scan.pdf"), model, taken)


@pytest.mark.parametrize("page", PAGES)
def test_a_file_holding_only_a_pdf_header_is_refused_with_a_sentence(app, client, page):
    url, fields, model = PAGES[page](client)
    for fake in (b"%PDF-1.4\n" + b"0" * 200_000, b"%PDF-1.7\nstartxref\n0\n%%EOF\n"):
        refused = _post(client, url, fields, fake, "plan.pdf")
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400
        assert NOTE in html
        assert _error_by_evidence(html).startswith("这不是一个完整的 PDF 文件")
    assert not _saved(model) and _files(app) == []


def test_a_body_far_past_the_limit_still_brings_the_form_back(app, client):
    """A file several times the limit: what comes before it is read (the text), the rest
    is not; the limit is the configured one, and the form states it."""
    app.config["EVIDENCE_MAX_BYTES"] = MB // 2
    url, fields, model = _finding_page(client)
    assert "0.5 MB 以内" in client.get(url).get_data(as_text=True)
    assert _post(client, url, fields, samples.pdf(400_000), "a.pdf").status_code == 302
    db.session.expire_all()
    db.session.execute(db.update(Finding).values(evidence=""))
    db.session.commit()
    for size in (600_000, 3 * MB):  # past the limit; past the four times it is read to
        refused = _post(client, url, fields, samples.pdf(size), "a.pdf")
        html = refused.get_data(as_text=True)
        assert refused.status_code == 413 and NOTE in html
        assert "0.5 MB" in _error_by_evidence(html)


def test_the_limit_is_a_setting(monkeypatch, tmp_path):
    from evalsurvey import create_app

    monkeypatch.setenv("EVALSURVEY_EVIDENCE_MAX_BYTES", "20971520")
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(tmp_path))
    assert create_app({"TESTING": True}).config["EVIDENCE_MAX_BYTES"] == 20 * MB
    monkeypatch.setenv("EVALSURVEY_EVIDENCE_MAX_BYTES", "ten")
    with pytest.raises(ConfigError, match="EVIDENCE_MAX_BYTES"):
        create_app({"TESTING": True})


def _refused(data: bytes, name: str) -> str:
    with pytest.raises(DomainError) as caught:
        check_evidence(name, data, limit=10 * MB)
    return caught.value.text()


def test_each_kind_is_checked_by_its_bytes(app):
    with app.test_request_context():
        for name, data in (("a.pdf", samples.pdf()), ("a.png", samples.png()),
                           ("a.jpg", samples.jpeg()), ("a.jpeg", samples.jpeg()),
                           ("a.docx", samples.docx()), ("a.xlsx", samples.xlsx())):  # fmt: skip
            assert check_evidence(name, data) == os.path.splitext(name)[1]
        pdf = samples.pdf(5000)
        assert _refused(pdf[: len(pdf) // 2], "a.pdf").startswith("这不是一个完整的 PDF 文件")
        assert _refused(samples.png()[:-40], "a.png").startswith("这不是一个可以打开的 PNG 图片")
        assert _refused(samples.jpeg()[:400], "a.jpg").startswith("这不是一个可以打开的 JPG 图片")
        assert _refused(samples.png(), "a.jpg") == "文件内容与扩展名不符。"
        assert _refused(samples.xlsx(), "a.docx").startswith("这不是一个可以打开的 DOCX 文件")
        assert _refused(samples.docx(), "a.xlsx").startswith("这不是一个可以打开的 XLSX 文件")
        macro = samples.docx(main="application/vnd.ms-word.document.macroEnabled.main+xml")
        assert _refused(macro, "a.docx").startswith("这不是一个可以打开的 DOCX 文件")
        assert _refused(b"PK\x03\x04" + b"0" * 100, "a.docx").startswith("这不是一个可以打开的")
        assert _refused(b"", "a.pdf") == "所选文件是空的，请重新选择。"
        assert _refused(b"MZ\x90\x00", "a.exe").startswith("只能上传")
        with pytest.raises(EvidenceTooLarge):
            check_evidence("a.pdf", samples.pdf(2 * MB), limit=MB)


def test_a_pdf_locked_with_a_password_is_refused(app):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(samples.pdf())))
    writer.encrypt("secret")
    locked = io.BytesIO()
    writer.write(locked)
    with app.test_request_context():
        assert "设有打开密码" in _refused(locked.getvalue(), "a.pdf")


def _grid(client):
    """The findings grid of a unit, with the first element's value, note and file owner."""
    cycle, _version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/findings"
    page = client.get(url).get_data(as_text=True)
    values = {name: "" for name in re.findall(r'name="(el-[^"]+-value)"', page)}
    return url, page, values


def _grid_post(client, url: str, page: str, parts: list[tuple[str, object]]):
    values = MultiDict([("csrf_token", hidden_fields(page)["csrf_token"]), *parts])
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_the_findings_grid_takes_9_mb_and_brings_11_mb_back_beside_its_element(app, client):
    url, page, values = _grid(client)
    assert "10 MB 以内" in page  # the grid states the limit
    typed = [*values.items(), ("el-1.1-value", "1"), ("el-1.1-note", NOTE), ("evidence_for", "1.1")]

    def post(data: bytes):
        file = FileStorage(io.BytesIO(data), "scan.pdf")
        return _grid_post(client, url, page, [*typed, ("evidence", file)])

    refused = post(samples.pdf(11 * MB))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 413  # the grid, not the bare "too large" page
    assert "内容过大" not in html and "<form" in html and NOTE in html
    assert "文件超过 10 MB 的上限，没有保存。请压缩或拆分后重新选择文件。" in html
    assert not _saved(Finding) and _files(app) == []
    taken = samples.pdf(9 * MB)
    _taken(app, post(taken), Finding, taken)


def test_the_findings_grid_past_its_body_cap_keeps_what_came_before(app, client):
    """Files together past the four times the limit the body is read to: the text before
    the cut is kept, nothing is saved, and the elements not read keep their stored values."""
    app.config["EVIDENCE_MAX_BYTES"] = MB // 2
    url, page, values = _grid(client)
    first = ("el-1.1-value", "1"), ("el-1.1-note", NOTE), ("evidence_for", "1.1")
    big = samples.pdf(3 * MB)

    def file():
        return ("evidence", FileStorage(io.BytesIO(big), "a.pdf"))

    rest = [(k, "0") for k in values if k != "el-1.1-value"]
    refused = _grid_post(client, url, page, [*first, file(), *rest])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 413 and NOTE in html and "<form" in html
    assert "一次提交的佐证材料过多（合计不能超过 2 MB）" in html
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    # a file far past the limit at the end of the form: beside its element, the text kept
    refused = _grid_post(client, url, page, [*first, *rest, file()])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 413 and NOTE in html, re.findall(r'class="err">([^<]*)', html)
    assert "文件超过 0.5 MB 的上限" in html
