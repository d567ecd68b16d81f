"""Evidence files on disk follow the rows that name them (issue 20 item 10): a department's
evidence is taken up to the same 10 MB as any other, a refused change leaves no file behind,
and replacing a file deletes the old one — counted in EVIDENCE_FOLDER."""

from __future__ import annotations

import io
import os

from sqlalchemy import select

from evalsurvey.domain.assessment import ledger as ledger_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.assessment.evidence import evidence_path, store_evidence
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, Finding, RectificationItem, Role
from tests import evidence_samples as samples
from tests.admin.test_assessment import _assessed_cycle
from tests.admin.test_consultation import _complete
from tests.factories import hidden_fields, login, make_staff, make_unit

PDF = samples.pdf(200_000)  # larger than the 64 KiB other bodies may be

FIRST, SECOND, THIRD = samples.pdf(), samples.pdf(), samples.pdf()


def _files(app) -> list[str]:
    found = []
    for folder, _dirs, names in os.walk(app.config["EVIDENCE_FOLDER"]):
        found += [os.path.join(folder, n) for n in names]
    return found


def test_a_departments_evidence_may_be_as_large_as_any_other(app, client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    make_staff("petitions", Role.DEPARTMENT)
    login(client, "petitions")
    url = f"/admin/cycles/{cycle.id}/consultation"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    posted = client.post(
        url,
        data={**fields, "action": "submit", "unit": "B1", "item": "P1", "value": "criticised:1",
              "reason": "来信属实", "evidence": (io.BytesIO(PDF), "letter.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert posted.status_code == 302
    adjustment = db.session.scalar(select(Adjustment))
    with open(evidence_path(app.config["EVIDENCE_FOLDER"], adjustment), "rb") as fh:
        assert fh.read() == PDF
    assert len(_files(app)) == 1


def test_replacing_a_findings_evidence_deletes_the_old_file(app, client):
    cycle, _version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    for n in range(3):
        data = PDF + str(n).encode()
        posted = client.post(
            url,
            data={**fields, "element": "1.1", "value": "1", "note": "",
                  "evidence": (io.BytesIO(data), "plan.pdf")},
            content_type="multipart/form-data",
        )  # fmt: skip
        assert posted.status_code == 302
        assert len(_files(app)) == 1  # the one the finding names
    found = db.session.scalar(select(Finding))
    with open(evidence_path(app.config["EVIDENCE_FOLDER"], found), "rb") as fh:
        assert fh.read() == data


def test_a_refused_ledger_move_leaves_no_file(app, client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    for element in scheme_domain.scheme_of(version).elements():
        value = "1" if element.rule.type == "tiers" else ("2" if element.code == "1.1" else "0")
        scheme_domain.record_finding(cycle, unit, element.code, value, "", "insp")
    db.session.commit()
    assert ledger_domain.propose_from_deductions(cycle, "agency_branch") == 1
    db.session.commit()
    item = db.session.scalar(select(RectificationItem))
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/ledger/{item.id}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    refused = client.post(
        url,  # confirming a proposal needs an owner and a deadline: refused
        data={**fields, "status": "open", "note": "", "evidence": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "责任人和期限" in refused.get_data(as_text=True)
    db.session.refresh(item)
    assert item.evidence in ("", None) and _files(app) == []


def test_the_file_follows_the_transaction(app):
    cycle, _version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    finding = scheme_domain.record_finding(cycle, unit, "1.1", "1", "", "insp")
    db.session.commit()
    folder = app.config["EVIDENCE_FOLDER"]
    store_evidence(folder, finding, "a.pdf", FIRST)
    db.session.rollback()  # a later check failed: the new file goes
    assert _files(app) == []
    store_evidence(folder, finding, "a.pdf", FIRST)
    db.session.commit()
    first = _files(app)
    assert len(first) == 1
    store_evidence(folder, finding, "b.pdf", SECOND)
    store_evidence(folder, finding, "c.pdf", THIRD)
    db.session.rollback()  # neither replacement kept: the first file stays, alone
    assert _files(app) == first
    store_evidence(folder, finding, "b.pdf", SECOND)
    db.session.commit()
    (kept,) = _files(app)
    with open(kept, "rb") as fh:
        assert kept != first[0] and fh.read() == SECOND
    db.session.refresh(finding)
    assert evidence_path(folder, finding) == kept
