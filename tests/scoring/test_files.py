"""The scheme workbook and the file-only commands: `score`, `scheme check`, `scheme convert`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from evalsurvey.cli import main
from evalsurvey.scoring import SchemeError, parse_scheme
from evalsurvey.scoring.workbook import read_workbook, write_workbook

RUBRIC = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes/agency_branch_004.json"


@pytest.fixture
def rubric():
    return parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))


def test_workbook_round_trip_is_lossless(rubric, tmp_path):
    data = write_workbook(rubric)
    assert read_workbook(data) == rubric
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    wb = load_workbook(path)
    assert wb.sheetnames == ["方案", "考核细则", "加减分"]
    rows = list(wb["考核细则"].iter_rows(values_only=True))
    assert rows[0][:5] == ("一级指标", "二级指标", "三级指标", "编码", "分值")
    assert rows[1][0] == "组织建设" and rows[2][1].startswith("党支部组织健全")
    assert rows[2][5] == "查阅资料" and rows[2][6] == "每缺一项扣 1 分"
    extras = list(wb["加减分"].iter_rows(values_only=True))
    rules = {row[1]: row[3] for row in extras[1:]}
    assert rules["B1"] == "按次计分：市级 +1，省级 +4，中央级 +6"  # categories by name
    assert next(row[5] for row in extras if row[1] == "V1") == "优秀、先进"  # grades in words


def test_the_shipped_community_scheme_round_trips_and_reads_in_words(tmp_path):
    """Issue 17: rules and vetoes in words (not `checklist 0.5`, `five_star、four_star`)."""
    path = RUBRIC.parent / "community_002.json"
    scheme = parse_scheme(json.loads(path.read_text(encoding="utf-8")))
    data = write_workbook(scheme)
    assert read_workbook(data) == scheme
    (tmp_path / "c.xlsx").write_bytes(data)
    wb = load_workbook(tmp_path / "c.xlsx")
    cells = [str(c) for sheet in wb for row in sheet.iter_rows(values_only=True) for c in row if c]
    text = " ".join(cells)
    for code in ("checklist", "tiers", "per_occurrence", "rank_tiers", "manual", "star5",
                 "street", "recognised", "case"):  # fmt: skip
        assert code not in text, code
    assert "按名次（从高到低）：前 5 名 2 分，前 15 名 1 分，其余 0 分" in cells
    assert "五星、四星" in cells and "人工打分" in cells


RULES = [
    ("checklist 0.5", {"type": "checklist", "deduct": 0.5}),
    ("每缺一项扣 0.5 分", {"type": "checklist", "deduct": 0.5}),
    ("tiers 0:10 80:15", {"type": "tiers", "tiers": [[0, 10], [80, 15]]}),
    ("分档：0 以上 10 分，80 以上 15 分", {"type": "tiers", "tiers": [[0, 10], [80, 15]]}),
    ("rank_tiers asc 3:5 *:1", {"type": "rank_tiers", "order": "asc",
                                "tiers": [[3, 5], [None, 1]]}),
    ("按名次（从低到高）：前 3 名 5 分，其余 1 分", {"type": "rank_tiers", "order": "asc",
                                            "tiers": [[3, 5], [None, 1]]}),
    ("per_occurrence city:1 own:2 cap:5", {"type": "per_occurrence",
                                           "points": {"city": 1, "own": 2}, "cap": 5}),
    ("按次计分：市级 +1，own +2；合计不超过 5 分", {"type": "per_occurrence",
                                          "points": {"city": 1, "own": 2}, "cap": 5}),
    ("survey citizen CITIZEN-WINDOW", {"type": "survey", "rater_group": "citizen",
                                       "questionnaire": "CITIZEN-WINDOW"}),
    ("满意度测评：citizen，问卷 CITIZEN-WINDOW", {"type": "survey", "rater_group": "citizen",
                                            "questionnaire": "CITIZEN-WINDOW"}),
    ("manual", {"type": "manual"}),
    ("人工打分", {"type": "manual"}),
]  # fmt: skip


@pytest.mark.parametrize("written, rule", RULES)
def test_rules_are_read_in_words_and_in_the_earlier_compact_form(written, rule):
    from evalsurvey.scoring.workbook import parse_rule_text

    assert parse_rule_text(written) == rule


def _edit(rubric, tmp_path, sheet: str, cell: str, value) -> bytes:
    path = tmp_path / "e.xlsx"
    path.write_bytes(write_workbook(rubric))
    wb = load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)
    return path.read_bytes()


@pytest.mark.parametrize(
    "sheet, cell, value, where",
    [
        ("考核细则", "F3", "查阅资料、猜测", ("考核细则", 3, "考核方法")),
        ("考核细则", "G3", "checklist half", ("考核细则", 3, "计分规则")),
        ("考核细则", "E3", 4, ("考核细则", 2, "分值")),  # 1.1 now 4: indicator 1 no longer adds up
        ("考核细则", "G4", "checklist 0", ("考核细则", 4, "计分规则")),
        ("考核细则", "G5", "tiers 1:5", ("考核细则", 5, "计分规则")),  # 5 > the element's 4
        ("加减分", "A2", "奖励", ("加减分", 2, "类别")),
    ],
)
def test_workbook_errors_name_sheet_row_and_column(rubric, tmp_path, sheet, cell, value, where):
    with pytest.raises(SchemeError) as caught:
        read_workbook(_edit(rubric, tmp_path, sheet, cell, value))
    error = caught.value
    assert (error.sheet, error.row, error.column) == where, error


def test_score_command_table_and_json(tmp_path):
    findings = tmp_path / "f.csv"
    scheme = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    rows = ["unit,element,value,note"]
    for unit, missing in (("A", "1"), ("B", "0")):
        for e in scheme.elements():
            value = "1" if e.rule.type == "tiers" else ("0" if e.code != "1.1" else missing)
            rows.append(f"{unit},{e.code},{value},")
    rows.append("A,B1,central:1,")
    findings.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["score", str(RUBRIC), str(findings), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "AGENCY-BRANCH@1" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["scheme"] == "AGENCY-BRANCH@1"
    a = next(u for u in doc["units"] if u["unit"] == "A")
    assert a["total"] == 104 and a["rank"] == 1 and a["bonus"] == 5 and a["complete"]
    assert a["elements"]["1.1"] == {
        "points": 2,
        "max": 3,
        "value": "1",
        "explanation": "1 missing × 1 from 3",
    }
    assert set(a) >= {
        "unit",
        "total",
        "complete",
        "rank",
        "elements",
        "bonus",
        "penalties",
        "vetoes",
        "barred",
    }


def test_score_command_names_row_and_column_and_exits_2(tmp_path):
    findings = tmp_path / "f.csv"
    findings.write_text("unit,element,value,note\nA,1.1,1,\nA,9.9,1,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(RUBRIC), str(findings)])
    assert result.exit_code == 2
    assert "row 3, column element" in result.output and "'9.9'" in result.output


def test_scheme_convert_and_check(tmp_path):
    runner = CliRunner()
    xlsx, back = tmp_path / "s.xlsx", tmp_path / "s.json"
    assert runner.invoke(main, ["scheme", "convert", str(RUBRIC), str(xlsx)]).exit_code == 0
    assert runner.invoke(main, ["scheme", "convert", str(xlsx), str(back)]).exit_code == 0
    assert json.loads(back.read_text(encoding="utf-8")) == json.loads(
        RUBRIC.read_text(encoding="utf-8")
    )
    assert "valid" in runner.invoke(main, ["scheme", "check", str(xlsx)]).output
    bad = tmp_path / "bad.json"
    data = json.loads(RUBRIC.read_text(encoding="utf-8"))
    data["total"] = 99
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(main, ["scheme", "check", str(bad)])
    assert result.exit_code == 2 and "add up to 100, not the total 99" in result.output


def test_scoring_loads_no_web_framework():
    code = (
        "import sys, evalsurvey.scoring, evalsurvey.scoring.workbook;"
        "print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_score_command_knows_the_units_when_given(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,type,parent\nA,甲,agency_branch,\nB,乙,agency_branch,\n", encoding="utf-8"
    )
    findings = tmp_path / "f.csv"
    findings.write_text("unit,element,value,note\nA,1.1,1,\nZ,1.1,1,\n", encoding="utf-8")
    out = tmp_path / "r.json"
    runner = CliRunner()
    result = runner.invoke(main, ["score", str(RUBRIC), str(findings), "--units", str(units)])
    assert result.exit_code == 2 and "row 3, column unit: unknown unit 'Z'" in result.output
    findings.write_text("unit,element,value,note\nA,1.1,1,\n", encoding="utf-8")
    result = runner.invoke(
        main, ["score", str(RUBRIC), str(findings), "--units", str(units), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    b = next(u for u in doc["units"] if u["unit"] == "B")
    assert not b["complete"] and len(b["not_assessed"]) == 22  # listed, never counted as 0


@pytest.mark.parametrize("name", ["community_002", "agency_branch_004"])
def test_both_seed_schemes_ship_as_workbooks_equal_to_their_json(name):
    """Issue 17: an office that writes its 考核细则 in Excel starts from these; they must
    say what the JSON says (rewrite them with write_workbook when the JSON changes)."""
    folder = RUBRIC.parent
    scheme = parse_scheme(json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))
    assert read_workbook((folder / f"{name}.xlsx").read_bytes()) == scheme
