"""The streamed SPSS writer: pyreadstat (ReadStat, what SPSS users' tools build on) reads back
every value, label and width, including strings longer than 255 bytes."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from evalsurvey.reports.spss import Variable, text_width, write_sav

pyreadstat = pytest.importorskip("pyreadstat")


def test_values_labels_and_very_long_strings_read_back(tmp_path):
    long_comment = "等候时间太长，" * 100  # 700 characters, 2,100 bytes: nine segments
    variables = [
        Variable("id", "编号", "text"),
        Variable("submitted", "提交时间", "datetime"),
        Variable(
            "attitude",
            "工作人员服务态度",
            "number",
            value_labels={5.0: "非常满意", 4.0: "满意", 1.0: "非常不满意"},
        ),  # fmt: skip
        Variable("points_given", "专家打分", "number", decimals=2),
        Variable("comment", "意见和建议", "text"),
    ]
    rows = [
        ["R1", datetime(2026, 11, 30, 9, 15, 7), 5, 12.5, long_comment],
        ["R2", None, None, -250.25, ""],
        ["R3", datetime(1999, 1, 1), 1, 1e6, "很好 "],
    ]
    widths = {"id": text_width(r[0] for r in rows), "comment": text_width(r[4] for r in rows)}
    assert widths["comment"] == len(long_comment.encode("utf-8"))
    path = tmp_path / "out.sav"
    with open(path, "wb") as out:
        assert write_sav(out, variables, widths, iter(rows), 3, file_label="2026H2") == 3
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == ["id", "submitted", "attitude", "points_given", "comment"]
    assert meta.column_names_to_labels["attitude"] == "工作人员服务态度"
    assert meta.variable_value_labels["attitude"] == {5.0: "非常满意", 4.0: "满意",
                                                      1.0: "非常不满意"}  # fmt: skip
    assert meta.original_variable_types["points_given"] == "F8.2"
    assert list(frame["id"]) == ["R1", "R2", "R3"]
    assert frame["comment"][0] == long_comment and frame["comment"][1] == ""
    assert frame["comment"][2].rstrip() == "很好"
    assert frame["submitted"][0] == datetime(2026, 11, 30, 9, 15, 7)
    assert frame["submitted"].isna()[1] and frame["submitted"][2] == datetime(1999, 1, 1)
    assert frame["attitude"][0] == 5 and math.isnan(frame["attitude"][1])
    assert list(frame["points_given"]) == [12.5, -250.25, 1e6]
    assert meta.number_rows == 3 and meta.file_label == "2026H2"


def test_many_rows_stream_and_the_count_is_checked(tmp_path):
    variables = [Variable("n", "n"), Variable("t", "t", "text")]
    path = tmp_path / "big.sav"
    with open(path, "wb") as out:
        write_sav(out, variables, {"t": 3}, ([i, f"r{i % 7}"] for i in range(20_000)), 20_000)
    frame, _meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 20_000 and frame["n"].sum() == sum(range(20_000))
    assert frame["t"][19_999] == "r0"  # 19,999 = 7 × 2,857
    with pytest.raises(ValueError), open(tmp_path / "short.sav", "wb") as out:
        write_sav(out, variables, {"t": 3}, iter([[1, "a"]]), 2)
    with pytest.raises(ValueError), open(tmp_path / "x.sav", "wb") as out:
        write_sav(out, [Variable("1bad")], {}, [], 0)
