"""Sentences made from the reason codes and numbers the pure packages return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evalsurvey.i18n import N_, _, sep
from evalsurvey.scoring.result import shown

STEP_WORDS = {
    "below_min": N_("未达到{grade}的最低分 {min}"),
    "barred": N_("因否决项不得评为{grade}"),
    "quota_full": N_("{grade}名额 {quota} 个已满"),
    "tie_over_quota": N_("{tied} 个单位同分争{grade}的最后名额，一并下调"),
    "improved": N_("较上期 {previous} 有进步，晋升为{grade}"),
}


def _number(v: Any) -> Any:
    return f"{shown(v):g}" if isinstance(v, float) else v


def grade_reason(graded: Any, labels: Mapping[str, str]) -> str:
    """Why a unit has its grade, in words: "得分 88.5，优秀名额 4 个已满，评为先进".

    ``graded`` is a :class:`~evalsurvey.scoring.grading.GradedUnit` or a frozen row
    (a mapping with ``score``, ``steps`` and ``label``).
    """
    get = graded.get if isinstance(graded, Mapping) else lambda k: getattr(graded, k)
    parts = [_("得分 {score}", score=_number(float(get("score"))))]
    for code, why, numbers in get("steps"):
        values = {k: _number(v) for k, v in numbers.items()}
        parts.append(_(STEP_WORDS[why], grade=labels.get(code, code), **values))
    parts.append(_("评为{label}", label=get("label")))
    return sep(",").join(parts)
