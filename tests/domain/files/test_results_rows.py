"""The results file shows points as the pages do: two decimals (``scoring.result.shown``)."""

from __future__ import annotations

from evalsurvey.domain.files.exports import results_rows
from evalsurvey.scoring.result import Standing


def test_points_are_rounded_as_the_pages_show_them():
    row = Standing("C1", "一社区", 96.2048, "composite", 1, "star5", "★★★★★",
                   previous=94.133333, change=2.071467)  # fmt: skip
    header, body = results_rows([row], lambda r: "得分 96.2")
    assert header[3] == "score" and body[0][3] == 96.2
    assert body[0][6:] == [94.13, 2.07]
    blank = Standing("C2", "二社区", 80.0, "composite", 2)
    assert results_rows([blank], lambda r: "")[1][0][6:] == [None, None]
