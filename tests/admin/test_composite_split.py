"""The composite's internal/external split of the satisfaction share, set on the composite
page: it becomes per-group weights, stored, shown and used by the composite."""

from __future__ import annotations

import re

import pytest

from evalsurvey import demo
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from evalsurvey.scoring.composite import split_weights
from tests.factories import hidden_fields, login


def test_split_weights_by_hand():
    # share 0.4: internal 0.3 → 0.12 for members and leaders (0.06 each); external 0.7 → 0.28
    got = split_weights(
        0.4,
        {"internal": 0.3, "external": 0.7},
        {"member": "internal", "leader": "internal", "citizen": "external"},
    )
    assert got == {"member": 0.06, "leader": 0.06, "citizen": 0.28}
    # sides are parts of the share whatever their sum: 3 and 7 are 0.3 and 0.7
    assert split_weights(1, {"internal": 3, "external": 7}, {"member": "internal"}) == {
        "member": 0.3
    }


def _form(client, cycle, **typed):
    page = client.get(f"/admin/cycles/{cycle.id}/composite?type=community").get_data(as_text=True)
    data = {**hidden_fields(page), "type": "community", "missing": "renormalize"}
    return client.post(f"/admin/cycles/{cycle.id}/composite/settings", data={**data, **typed})


@pytest.fixture
def office(app, client):
    demo.load(n_responses=400, seed=5)
    login(client, "admin", "admin-demo-2026")
    return client, db.session.scalar(db.select(Cycle))


def test_the_split_becomes_per_group_weights_shown_and_used(office):
    client, cycle = office
    # inspection 0.6, panel 0.1; satisfaction 0.3: internal 0.3 (members, leaders),
    # external 0.7 (citizens) → members 0.3 × 0.3 / 2 = 0.045, leaders 0.045,
    # citizens 0.3 × 0.7 = 0.21
    resp = _form(
        client,
        cycle,
        w_inspection="0.6",
        w_panel="0.1",
        split_share="0.3",
        split_internal="0.3",
        split_external="0.7",
        side_member="internal",
        side_leader="internal",
        side_citizen="external",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    config = composite_domain.setting(cycle, "community")
    assert config.weights == {
        "inspection": 0.6,
        "panel": 0.1,
        "member": 0.045,
        "leader": 0.045,
        "citizen": 0.21,
    }
    assert config.split == {
        "share": 0.3,
        "internal": 0.3,
        "external": 0.7,
        "groups": {"citizen": "external", "leader": "internal", "member": "internal"},
    }
    page = client.get(f"/admin/cycles/{cycle.id}/composite?type=community").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    for name, weight, share in (("党员", "0.045", "4.5%"), ("领导", "0.045", "4.5%")):
        assert re.search(rf"{name}\s+{re.escape(weight)}\s+{re.escape(share)}", text)
    assert re.search(r"群众\s+0\.21\s+21%", text)
    assert "满意度 0.3 × 外部 0.7" in text and "满意度 0.3 × 内部 0.3，2 个群体平分" in text
    # the form shows the split as set (the groups' own weights empty)
    fields = dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', page))
    assert (
        fields["split_share"] == "0.3" and fields["w_member"] == "" and fields["w_panel"] == "0.1"
    )
    assert re.search(r'<select name="side_member"[^>]*>.*?value="internal" selected', page)

    # the composite weighs with them: each unit's score is its terms by these weights
    client.post(
        f"/admin/cycles/{cycle.id}/composite", data={**hidden_fields(page), "type": "community"}
    )
    run = composite_domain.latest_composite(cycle, "community")
    assert run.result["weights"] == config.weights and run.options["split"] == config.split
    for unit in run.result["units"]:
        present = [t for t in unit["terms"] if t["score"] is not None]
        weighted = sum(config.weights[t["component"]] * t["score"] for t in present)
        used = sum(config.weights[t["component"]] for t in present)
        if unit["score"] is not None:
            assert unit["score"] == pytest.approx(weighted / used, abs=1e-5)


def test_split_problems_beside_their_fields_with_the_typed_values_kept(office):
    client, cycle = office
    before = composite_domain.setting(cycle, "community").weights
    cases = [
        (
            {"split_internal": "0.3", "split_external": "0.7", "side_citizen": "external"},
            "split_internal",
            "内部占比大于 0，但没有评价群体分到内部。",
        ),
        (
            {"split_internal": "0.3", "split_external": "0.7", "side_member": "internal"}
            | {"side_citizen": "external", "w_member": "0.1"},
            "w_member",
            "该群体已分到内部或外部，不再单独设权重；请清空此处或改为单独设权重。",
        ),
        (
            {"split_internal": "三成", "side_member": "internal"},
            "split_internal",
            "请填写数字。",
        ),
        (
            {"split_internal": "0", "split_external": "0", "side_member": "internal"},
            "split_internal",
            "内部和外部的占比不能都为 0。",
        ),
    ]
    for typed, field, sentence in cases:
        resp = _form(client, cycle, w_inspection="0.6", split_share="0.3", **typed)
        assert resp.status_code == 400, typed
        page = resp.get_data(as_text=True)
        # the sentence right after the field's input
        after = page[page.index(f'name="{field}"') :]
        after = after[after.index(">") + 1 :]
        assert after.startswith(f'<div class="err">{sentence}</div>') or (
            after.split("</label>", 1)[1].startswith(f'<div class="err">{sentence}</div>')
        ), (field, after[:300])
        for name, value in typed.items():
            if name.startswith(("w_", "split_")):
                assert f'name="{name}" value="{value}"' in page
        db.session.expire_all()
        assert composite_domain.setting(cycle, "community").weights == before


def test_groups_on_a_side_are_ignored_without_a_satisfaction_share(office):
    client, cycle = office
    resp = _form(client, cycle, w_inspection="1", w_citizen="1", side_member="internal")
    assert resp.status_code == 302
    config = composite_domain.setting(cycle, "community")
    assert config.weights == {"inspection": 1.0, "citizen": 1.0} and config.split is None
