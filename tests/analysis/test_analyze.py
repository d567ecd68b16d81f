"""``evalsurvey analyze``: the command on the interchange CSV alone."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from evalsurvey.cli import main
from tests.stats.synthetic import SCALE, make_csv


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("analyze") / "responses.csv"
    planted = make_csv(path, seed=3, n_units=8, per_unit=60, n_panel_units=15, n_experts=8)
    return path, planted


def invoke(*args):
    return CliRunner().invoke(main, ["analyze", *map(str, args)])


def test_json_report_shape(synthetic, tmp_path):
    path, _ = synthetic
    out = tmp_path / "report.json"
    result = invoke(path, "--scale", SCALE, "--weights", "citizen=0.6,panel=0.4", "--json", out)
    assert result.exit_code == 0, result.output
    assert "rank" in result.output and "reliability (panel)" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["input"]["rows"] > 0 and "c1" in report["input"]["items"]
    assert report["settings"]["weights"] == {"citizen": 0.6, "panel": 0.4}
    unit = report["units"][0]
    assert {"unit", "n", "n_used", "score", "ci95", "rank", "groups"} <= set(unit)
    assert unit["rank"] == 1
    citizen = next(u for u in report["units"] if u["unit"].startswith("W"))
    group = citizen["groups"]["citizen"]
    assert 0 <= group["satisfied_rate"] <= 1 and group["ci95"][0] <= group["score"]
    rater = report["raters"][0]
    assert {"rater", "n", "severity", "reasons", "explanation"} <= set(rater)
    assert len(report["raters"]) == 8  # every identified rater is listed
    assert set(report["reliability"]["icc"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    assert -1 <= report["reliability"]["krippendorff_alpha"] <= 1
    assert all(r["reasons"] for r in report["responses"])


@pytest.mark.parametrize("method", ["mean", "trimmed", "adjusted"])
def test_methods(synthetic, tmp_path, method):
    path, _ = synthetic
    out = tmp_path / "r.json"
    assert invoke(path, "--scale", SCALE, "--method", method, "--json", out).exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    panel = next(u for u in report["units"] if "panel" in u["groups"])["groups"]["panel"]
    assert panel["method"] == method


def test_too_few_responses_are_not_scored(synthetic, tmp_path):
    path, _ = synthetic
    out = tmp_path / "r.json"
    assert invoke(path, "--scale", SCALE, "--min-n", 1000, "--json", out).exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert all(u["score"] is None and u["rank"] is None for u in report["units"])
    assert report["units"][0]["status"] == "too few responses"


def test_internal_external_weights(synthetic, tmp_path):
    path, _ = synthetic
    out = tmp_path / "r.json"
    result = invoke(
        path,
        "--scale",
        SCALE,
        "--weights",
        "internal=0.3,external=0.7",
        "--internal",
        "panel",
        "--json",
        out,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["settings"]["weights"] == {"internal": 0.3, "external": 0.7}
    one_sided = next(u for u in report["units"] if u["unit"].startswith("W"))
    assert one_sided["missing_groups"] == ["internal"]  # said, not silent


def _rewrite(path, tmp_path, change):
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    change(rows)
    out = tmp_path / "bad.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: [r.pop(1) for r in rows], "row 1, column questionnaire"),
        (lambda rows: rows[5].__setitem__(9, "yesterday"), "row 6, column submitted_at"),
        (lambda rows: rows[7].__setitem__(8, "2026-09-01T10:00:00"), "row 8, column started_at"),
        (lambda rows: rows[4].__setitem__(10, "7"), "row 5, column c1"),
        (lambda rows: rows[9].__setitem__(0, rows[3][0]), "row 10, column response_id"),
        (lambda rows: rows[6].__setitem__(11, "4x"), "row 7, column c2"),
    ],
)
def test_bad_input_names_row_and_column_and_exits_2(synthetic, tmp_path, change, message):
    path, _ = synthetic
    bad = _rewrite(path, tmp_path, change)
    result = invoke(bad, "--scale", SCALE)
    assert result.exit_code == 2
    assert message in result.output


def test_bad_options_exit_2(synthetic):
    path, _ = synthetic
    assert invoke(path, "--scale", "5-1").exit_code == 2
    result = invoke(path, "--scale", SCALE, "--weights", "aliens=1")
    assert result.exit_code == 2 and "aliens" in result.output
    result = invoke(path)  # the panel's 0–20 points cannot be inferred
    assert result.exit_code == 2 and "--scale" in result.output


def test_analyze_reads_what_the_web_app_exports(app, client, runner, tmp_path):
    from tests.factories import hidden_fields, make_link

    link = make_link()
    url = f"/s/{link.code}"
    for level in ("5", "4", "4", "3", "5", "2"):
        fields = hidden_fields(client.get(url).get_data(as_text=True))
        client.post(url, data={**fields, "attitude": level, "speed": level, "pts": "6"})
    export = tmp_path / "export.csv"
    assert runner.invoke(args=["export-responses", "--out", str(export)]).exit_code == 0
    out = tmp_path / "r.json"
    result = invoke(export, "--scale", "1-5,nps=0-10,pts=0-10", "--json", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["units"][0]["unit"] == link.unit.code and report["units"][0]["n"] == 6
    assert report["input"]["empty_items"] == ["nps", "chan", "topics", "note"]
    assert report["input"]["items"] == ["attitude", "speed", "pts"]


def test_degenerate_files_get_clear_answers(tmp_path):
    head = (
        "response_id,questionnaire,unit,rater_group,rater,rater_unit,channel,device,"
        "started_at,submitted_at,q1,comment\n"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text(head, encoding="utf-8")
    result = invoke(empty)
    assert result.exit_code == 2 and "no responses" in result.output
    one = tmp_path / "one.csv"
    one.write_text(
        head + "R1,Q@1,U1,panel,E1,,invite,,,2026-01-01T10:01:00+08:00,4,\n", encoding="utf-8"
    )
    out = tmp_path / "r.json"
    result = invoke(one, "--json", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["units"][0]["status"] == "too few responses"
    assert "two identified raters" in report["reliability"]["note"]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = invoke(binary)
    assert result.exit_code == 2 and "UTF-8" in result.output


def test_the_practical_size_of_a_lenient_rater_is_an_option(synthetic, tmp_path):
    path, planted = synthetic
    out = tmp_path / "r.json"
    assert invoke(path, "--scale", SCALE, "--json", out).exit_code == 0
    raters = {r["rater"]: r for r in json.loads(out.read_text(encoding="utf-8"))["raters"]}
    assert raters[planted.lenient]["reasons"] == ["lenient"]
    details = raters[planted.lenient]["details"]["lenient"]
    assert (
        details["points"] >= 10
        and "points above the other raters" in (raters[planted.lenient]["explanation"])
    )
    result = invoke(path, "--scale", SCALE, "--rater-min-effect", 30, "--json", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["settings"]["rater_min_effect"] == 30
    assert not any("lenient" in r["reasons"] for r in report["raters"])
