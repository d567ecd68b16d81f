"""Evidence files attached to findings: checked, stored under ``instance/``, served only
to people whose scope includes the finding's unit (see :mod:`evalsurvey.admin.findings`)."""

from __future__ import annotations

import os
import secrets

from evalsurvey.domain.errors import DomainError
from evalsurvey.models import Adjustment, Finding, RectificationItem

Evidenced = Finding | RectificationItem | Adjustment

MAX_BYTES = 10 * 1024 * 1024
# what a file's first bytes must be for its extension (a renamed program is refused)
SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
MIMETYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def store_evidence(folder: str, finding: Evidenced, filename: str, data: bytes) -> str:
    """Check and store one evidence file for ``finding`` (or a ledger item, or a
    department's adjustment: anything with a cycle, a unit and an ``evidence`` name);
    returns its stored name.

    The stored name is random (it reveals nothing and cannot be guessed); the file goes
    under ``folder/<cycle>/<unit>/``. Flushed, not committed.
    """
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in SIGNATURES:
        raise DomainError("只能上传 PDF、PNG、JPG、DOCX 或 XLSX 文件。", "evidence")
    if len(data) > MAX_BYTES:
        raise DomainError("文件不能超过 10 MB。", "evidence")
    if not data.startswith(SIGNATURES[ext]):
        raise DomainError("文件内容与扩展名不符。", "evidence")
    target = os.path.join(folder, str(finding.cycle_id), str(finding.unit_id))
    os.makedirs(target, exist_ok=True)
    name = secrets.token_hex(12) + ext
    with open(os.path.join(target, name), "wb") as fh:
        fh.write(data)
    finding.evidence = name
    return name


def evidence_path(folder: str, finding: Evidenced) -> str | None:
    """Where a finding's evidence file is, or None."""
    if not finding.evidence or "/" in finding.evidence or ".." in finding.evidence:
        return None
    path = os.path.join(folder, str(finding.cycle_id), str(finding.unit_id), finding.evidence)
    return path if os.path.isfile(path) else None
