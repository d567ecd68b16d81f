"""Scoring of indicator schemes: pure computation, no Flask or SQLAlchemy.

``schemes`` parses and validates a scheme (the JSON contract), ``findings`` reads the
findings file, ``points`` turns findings into element points, totals and ranks by each
element's rule. Problems are reported as reason codes with numbers; sentences are made
where the reader's language is known.
"""

from evalsurvey.scoring.findings import Finding, FindingsError, read_findings
from evalsurvey.scoring.points import ElementResult, UnitResult, score_units
from evalsurvey.scoring.schemes import (
    METHODS,
    RULE_TYPES,
    Extra,
    Node,
    Rule,
    Scheme,
    SchemeError,
    Veto,
    parse_scheme,
    scheme_to_json,
)

__all__ = [
    "METHODS",
    "RULE_TYPES",
    "ElementResult",
    "Extra",
    "Finding",
    "FindingsError",
    "Node",
    "Rule",
    "Scheme",
    "SchemeError",
    "UnitResult",
    "Veto",
    "parse_scheme",
    "read_findings",
    "scheme_to_json",
    "score_units",
]
