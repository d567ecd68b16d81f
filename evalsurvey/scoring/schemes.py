"""Indicator schemes (考评标准): a versioned tree of indicators with a scoring rule per element.

The JSON form is a contract other systems rely on::

    {"code": "AGENCY-BRANCH", "version": 1, "title": "…", "total": 100,
     "indicators": [{"code": "1", "title": "组织建设", "points": 17, "children": [
         {"code": "1.1", "title": "…", "points": 2, "methods": ["document", "interview"],
          "rule": {"type": "checklist", "deduct": 0.5}}]}],
     "bonus_cap": 5,
     "bonus": [{"code": "B1", "title": "…", "rule": {"type": "per_occurrence", "points": {…}}}],
     "penalties": [{"code": "P1", "title": "…", "rule": {"type": "per_occurrence", …}}],
     "vetoes": [{"code": "V1", "title": "…", "deduct": 20, "bars": ["excellent", "advanced"]}]}

:func:`parse_scheme` checks everything a person can get wrong and names the node:
children's points must add up to their parent's, the top level to the total; a rule must
fit its element (tier points within the element's, a positive deduction, …); methods come
from :data:`METHODS`; up to three levels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# document review (查阅资料), hearing reports (听取汇报), random interviews (随机访谈),
# questionnaire survey (问卷调查), field visits (实地查看)
METHODS = ("document", "report", "interview", "survey", "visit")
RULE_TYPES = ("checklist", "tiers", "rank_tiers", "per_occurrence", "survey", "manual")
MAX_DEPTH = 3
EPS = 1e-9


class SchemeError(ValueError):
    """A problem in a scheme: ``code`` says what, ``where`` names the node (or item) and
    ``detail`` holds the numbers. Readers of a workbook add its sheet and row."""

    def __init__(self, code: str, where: str = "", **detail: Any):
        self.code, self.where, self.detail = code, where, detail
        super().__init__(f"{where or 'scheme'}: {code} {detail}" if detail else f"{where}: {code}")


@dataclass(frozen=True)
class Rule:
    """How an element's points follow from its finding (see :mod:`evalsurvey.scoring.points`)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        # optional settings left unset are left out, as people write them
        params = {k: v for k, v in self.params.items() if v is not None and v != ""}
        return {"type": self.type, **_plain(params)}


@dataclass(frozen=True)
class Node:
    """An indicator (with children) or a scored element (with a rule)."""

    code: str
    title: str
    points: float
    methods: tuple[str, ...] = ()
    rule: Rule | None = None
    children: tuple[Node, ...] = ()
    note: str = ""

    @property
    def is_element(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Extra:
    """A bonus or penalty item, outside the tree (per_occurrence)."""

    code: str
    title: str
    rule: Rule
    note: str = ""


@dataclass(frozen=True)
class Veto:
    """An event that subtracts ``deduct`` and bars the unit from the listed grades."""

    code: str
    title: str
    deduct: float
    bars: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Scheme:
    code: str
    version: int
    title: str
    total: float
    indicators: tuple[Node, ...]
    bonus_cap: float | None = None
    bonus: tuple[Extra, ...] = ()
    penalties: tuple[Extra, ...] = ()
    vetoes: tuple[Veto, ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    def nodes(self) -> Iterator[tuple[Node, int, Node | None]]:
        """Every node, depth first, with its level (1–3) and parent."""

        def walk(node: Node, level: int, parent: Node | None):
            yield node, level, parent
            for child in node.children:
                yield from walk(child, level + 1, node)

        for top in self.indicators:
            yield from walk(top, 1, None)

    def elements(self) -> list[Node]:
        return [node for node, _level, _parent in self.nodes() if node.is_element]

    def item(self, code: str) -> Node | Extra | Veto | None:
        """The element, bonus, penalty or veto with this code."""
        for node, _level, _parent in self.nodes():
            if node.code == code:
                return node
        for extra in (*self.bonus, *self.penalties, *self.vetoes):
            if extra.code == code:
                return extra
        return None


# -- parsing ---------------------------------------------------------------------------------


def _number(value: Any, where: str, name: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SchemeError("not_a_number", where, field=name, value=value)
    if positive and value <= 0:
        raise SchemeError("not_positive", where, field=name, value=value)
    return float(value)


def _text(data: Mapping, key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SchemeError("missing", where, field=key)
        return ""
    if not isinstance(value, str | int | float):
        raise SchemeError("not_text", where, field=key)
    return str(value).strip()


def _object(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise SchemeError("not_an_object", where)
    return value


def parse_rule(data: Any, where: str, points: float | None) -> Rule:
    """A rule, checked against its element's ``points`` (None for items outside the tree)."""
    data = _object(data, where)
    kind = data.get("type")
    if kind not in RULE_TYPES:
        raise SchemeError("unknown_rule", where, rule=kind)
    params = {k: v for k, v in data.items() if k != "type"}
    if kind == "checklist":
        params = {"deduct": _number(params.get("deduct"), where, "deduct", positive=True)}
    elif kind == "tiers":
        params = {"tiers": _tiers(params.get("tiers"), where, points)}
    elif kind == "rank_tiers":
        order = params.get("order", "desc")
        if order not in ("asc", "desc"):
            raise SchemeError("bad_order", where, order=order)
        params = {"order": order, "tiers": _rank_tiers(params.get("tiers"), where, points)}
    elif kind == "per_occurrence":
        raw = params.get("points")
        if not isinstance(raw, Mapping) or not raw:
            raise SchemeError("no_categories", where)
        cats = {str(k): _number(v, where, f"points.{k}") for k, v in raw.items()}
        if any(v == 0 for v in cats.values()):
            raise SchemeError("zero_points", where)
        cap = params.get("cap")
        params = {"points": cats, "cap": None if cap is None else _number(cap, where, "cap", True)}
    elif kind == "survey":
        params = {
            "rater_group": _text(params, "rater_group", where),
            "questionnaire": _text(params, "questionnaire", where, required=False),
        }
    else:  # manual
        params = {}
    return Rule(kind, params)


def _tiers(raw: Any, where: str, points: float | None) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemeError("no_tiers", where)
    tiers = []
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise SchemeError("bad_tier", where, tier=entry)
        bound = _number(entry[0], where, "tiers")
        value = _number(entry[1], where, "tiers")
        _fits(value, points, where)
        tiers.append((bound, value))
    bounds = [b for b, _ in tiers]
    if len(set(bounds)) != len(bounds):
        raise SchemeError("duplicate_bound", where)
    return tuple(sorted(tiers))


def _rank_tiers(raw: Any, where: str, points: float | None) -> tuple[tuple[int | None, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemeError("no_tiers", where)
    tiers: list[tuple[int | None, float]] = []
    last = 0
    for n, entry in enumerate(raw):
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise SchemeError("bad_tier", where, tier=entry)
        up_to, value = entry
        value = _number(value, where, "tiers")
        _fits(value, points, where)
        if up_to is None:
            if n != len(raw) - 1:
                raise SchemeError("rest_not_last", where)
        else:
            if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to <= last:
                raise SchemeError("bad_rank", where, rank=up_to)
            last = up_to
        tiers.append((up_to, value))
    return tuple(tiers)


def _fits(value: float, points: float | None, where: str) -> None:
    if value < 0:
        raise SchemeError("negative_tier", where, points=value)
    if points is not None and value > points + EPS:
        raise SchemeError("tier_above_element", where, points=value, element=points)


def _node(data: Any, level: int, where_parent: str, seen: set[str]) -> Node:
    data = _object(data, where_parent)
    code = _text(data, "code", where_parent)
    where = code
    if code in seen:
        raise SchemeError("duplicate_code", where)
    seen.add(code)
    if level > MAX_DEPTH:
        raise SchemeError("too_deep", where, levels=MAX_DEPTH)
    title = _text(data, "title", where)
    points = _number(data.get("points"), where, "points", positive=True)
    note = _text(data, "note", where, required=False)
    raw_children = data.get("children") or []
    if not isinstance(raw_children, list):
        raise SchemeError("not_a_list", where, field="children")
    children = tuple(_node(c, level + 1, where, seen) for c in raw_children)
    if children:
        if data.get("rule") is not None:
            raise SchemeError("rule_on_indicator", where)
        total = sum(c.points for c in children)
        if abs(total - points) > EPS:
            raise SchemeError("children_sum", where, points=points, children=round(total, 6))
        return Node(code, title, points, _methods(data, where, False), None, children, note)
    if data.get("rule") is None:
        raise SchemeError("no_rule", where)
    rule = parse_rule(data["rule"], where, points)
    methods = _methods(data, where, True)
    if rule.type == "per_occurrence" and any(v < 0 for v in rule.params["points"].values()):
        raise SchemeError("negative_in_tree", where)
    return Node(code, title, points, methods, rule, (), note)


def _methods(data: Mapping, where: str, required: bool) -> tuple[str, ...]:
    raw = data.get("methods") or []
    if not isinstance(raw, list):
        raise SchemeError("not_a_list", where, field="methods")
    unknown = [m for m in raw if m not in METHODS]
    if unknown:
        raise SchemeError("unknown_method", where, method=unknown[0])
    if required and not raw:
        raise SchemeError("no_methods", where)
    return tuple(raw)


def _extras(raw: Any, key: str, seen: set[str], sign: int) -> tuple[Extra, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SchemeError("not_a_list", key)
    out = []
    for data in raw:
        data = _object(data, key)
        code = _text(data, "code", key)
        if code in seen:
            raise SchemeError("duplicate_code", code)
        seen.add(code)
        rule = parse_rule(data.get("rule"), code, None)
        if rule.type != "per_occurrence":
            raise SchemeError("extra_rule", code, rule=rule.type)
        if any(v * sign <= 0 for v in rule.params["points"].values()):
            raise SchemeError("bonus_sign" if sign > 0 else "penalty_sign", code)
        out.append(Extra(code, _text(data, "title", code), rule, _text(data, "note", code, False)))
    return tuple(out)


def parse_scheme(data: Any) -> Scheme:
    """Check a scheme's JSON form and build it. Raises :class:`SchemeError` naming the node."""
    data = _object(data, "scheme")
    code = _text(data, "code", "scheme")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SchemeError("bad_version", "scheme", value=version)
    total = _number(data.get("total"), "scheme", "total", positive=True)
    raw = data.get("indicators")
    if not isinstance(raw, list) or not raw:
        raise SchemeError("no_indicators", "scheme")
    seen: set[str] = set()
    indicators = tuple(_node(n, 1, "scheme", seen) for n in raw)
    top = sum(n.points for n in indicators)
    if abs(top - total) > EPS:
        raise SchemeError("total_sum", "scheme", total=total, indicators=round(top, 6))
    cap = data.get("bonus_cap")
    bonus_cap = None if cap is None else _number(cap, "scheme", "bonus_cap")
    if bonus_cap is not None and bonus_cap < 0:
        raise SchemeError("not_positive", "scheme", field="bonus_cap", value=cap)
    bonus = _extras(data.get("bonus"), "bonus", seen, +1)
    penalties = _extras(data.get("penalties"), "penalties", seen, -1)
    vetoes = []
    for item in data.get("vetoes") or []:
        item = _object(item, "vetoes")
        vcode = _text(item, "code", "vetoes")
        if vcode in seen:
            raise SchemeError("duplicate_code", vcode)
        seen.add(vcode)
        bars = item.get("bars") or []
        if not isinstance(bars, list) or not all(isinstance(b, str) for b in bars):
            raise SchemeError("not_a_list", vcode, field="bars")
        vetoes.append(
            Veto(
                vcode,
                _text(item, "title", vcode),
                _number(item.get("deduct", 0), vcode, "deduct"),
                tuple(bars),
                _text(item, "note", vcode, False),
            )
        )
        if vetoes[-1].deduct < 0:
            raise SchemeError("not_positive", vcode, field="deduct", value=vetoes[-1].deduct)
    return Scheme(
        code=code,
        version=version,
        title=_text(data, "title", "scheme"),
        total=total,
        indicators=indicators,
        bonus_cap=bonus_cap,
        bonus=bonus,
        penalties=penalties,
        vetoes=tuple(vetoes),
        note=_text(data, "note", "scheme", required=False),
    )


# -- writing -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Numbers as people wrote them (2, not 2.0); tuples as lists."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _node_json(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"code": node.code, "title": node.title, "points": _plain(node.points)}
    if node.methods:
        out["methods"] = list(node.methods)
    if node.rule is not None:
        out["rule"] = node.rule.as_json()
    if node.note:
        out["note"] = node.note
    if node.children:
        out["children"] = [_node_json(c) for c in node.children]
    return out


def _extra_json(extra: Extra) -> dict[str, Any]:
    out = {"code": extra.code, "title": extra.title, "rule": extra.rule.as_json()}
    if extra.note:
        out["note"] = extra.note
    return out


def scheme_to_json(scheme: Scheme) -> dict[str, Any]:
    """The scheme's JSON form; ``parse_scheme(scheme_to_json(s)) == s``."""
    out: dict[str, Any] = {
        "code": scheme.code,
        "version": scheme.version,
        "title": scheme.title,
        "total": _plain(scheme.total),
        "indicators": [_node_json(n) for n in scheme.indicators],
    }
    if scheme.note:
        out["note"] = scheme.note
    if scheme.bonus_cap is not None:
        out["bonus_cap"] = _plain(scheme.bonus_cap)
    out["bonus"] = [_extra_json(e) for e in scheme.bonus]
    out["penalties"] = [_extra_json(e) for e in scheme.penalties]
    out["vetoes"] = []
    for v in scheme.vetoes:
        entry: dict[str, Any] = {"code": v.code, "title": v.title, "deduct": _plain(v.deduct)}
        entry["bars"] = list(v.bars)
        if v.note:
            entry["note"] = v.note
        out["vetoes"].append(entry)
    return out
