"""The data model, one module per area, re-exported here."""

from evalsurvey.models.api_tokens import ApiToken, TokenScope
from evalsurvey.models.audit import AuditLog
from evalsurvey.models.consultation import Adjustment
from evalsurvey.models.cycles import Cycle, CycleStatus
from evalsurvey.models.findings import Finding
from evalsurvey.models.ledger import RectificationItem
from evalsurvey.models.links import Invitation, Link, LinkMode
from evalsurvey.models.publication import Objection, Publication
from evalsurvey.models.questionnaires import Item, ItemType, Questionnaire
from evalsurvey.models.responses import BlockedAttempt, Channel, Response, ResponseStatus
from evalsurvey.models.results import AnalysisRun, CompositeSetting, GradeSetting
from evalsurvey.models.review import GradeProposal, ReviewDraw
from evalsurvey.models.schemes import CycleScheme, SchemeVersion
from evalsurvey.models.staff import Role, SigninFailure, StaffUser
from evalsurvey.models.units import RaterGroup, Unit

__all__ = [
    "Adjustment",
    "AnalysisRun",
    "ApiToken",
    "AuditLog",
    "BlockedAttempt",
    "Channel",
    "CompositeSetting",
    "Cycle",
    "CycleScheme",
    "CycleStatus",
    "Finding",
    "GradeProposal",
    "GradeSetting",
    "Invitation",
    "Item",
    "ItemType",
    "Link",
    "LinkMode",
    "Objection",
    "Publication",
    "Questionnaire",
    "RectificationItem",
    "RaterGroup",
    "Response",
    "ResponseStatus",
    "ReviewDraw",
    "Role",
    "SchemeVersion",
    "SigninFailure",
    "StaffUser",
    "TokenScope",
    "Unit",
]
