"""Evidence files attached to findings: checked, stored under ``instance/``, served only
to people whose scope includes the finding's unit (see :mod:`evalsurvey.admin.findings`)."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import event
from sqlalchemy.orm import Session

from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
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
    path = os.path.join(target, name)
    with open(path, "wb") as fh:
        fh.write(data)
    replaced = evidence_path(folder, finding)
    finding.evidence = name
    _settle_files(db.session(), new=path, old=replaced)
    return name


def _settle_files(session: Session, new: str, old: str | None) -> None:
    """When the transaction ends: committed, the file replaced (``old``) is deleted; rolled
    back or closed without a commit (a refused move, a failed check after the upload), the
    new file is. Either way no file stays that no row names."""
    pending = session.info.setdefault(_PENDING, [])
    pending.append((new, old))
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)


_PENDING, _LISTENING, _COMMITTED = "evidence.pending", "evidence.listening", "evidence.committed"


def _committed(session: Session) -> None:
    if session.info.get(_PENDING):
        session.info[_COMMITTED] = True


def _ended(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outcome is decided further out
        return
    pending = session.info.pop(_PENDING, None)
    committed = session.info.pop(_COMMITTED, False)
    for new, old in pending or ():
        stale = old if committed else new
        if stale:
            try:
                os.remove(stale)
            except OSError:
                pass  # already gone: nothing left to clean up


def evidence_path(folder: str, finding: Evidenced) -> str | None:
    """Where a finding's evidence file is, or None."""
    if not finding.evidence or "/" in finding.evidence or ".." in finding.evidence:
        return None
    path = os.path.join(folder, str(finding.cycle_id), str(finding.unit_id), finding.evidence)
    return path if os.path.isfile(path) else None
