"""Evidence files attached to findings: checked, stored under ``instance/``, served only
to people whose scope includes the finding's unit (see :mod:`evalsurvey.admin.findings`).

A file is taken for what its bytes are, not for its name: its extension names the kind
(PDF, PNG, JPEG, DOCX, XLSX) and the content must be a whole file of that kind that can be
opened — a PDF whose cross-reference structure and page tree read, an image Pillow decodes
(a PNG's compressed pixels inflate to the size its header states), an office file whose zip
declares the document type of its extension and whose main part is well-formed XML. A file
holding only a header, a truncated download or a renamed program is refused with a
sentence. Each check reads within bounds (pixels, expanded bytes), so no upload can cost a
worker more than a few times its own size.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
import zipfile
import zlib
from xml.parsers import expat

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, Finding, RectificationItem
from evalsurvey.uploads import megabytes

Evidenced = Finding | RectificationItem | Adjustment

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB  # config EVIDENCE_MAX_BYTES
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
# the content type an office file's [Content_Types].xml gives its main part (a macro-enabled
# .docm or .xlsm renamed declares another one, and is refused)
OFFICE_MAIN = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
KINDS = {".pdf": "PDF", ".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".docx": "DOCX",
         ".xlsx": "XLSX"}  # fmt: skip
# Bounds on what checking one file may cost: pixels (a 50-megapixel phone photo is well
# within) and the bytes an office file may expand to.
MAX_PIXELS = 80_000_000
OFFICE_EXPANDED = 200 * MB
OFFICE_PARTS = 5_000


def N_(message: str) -> str:  # marks a message for the catalogue
    return message


class EvidenceTooLarge(DomainError):
    """A file past the size the form states (the page answers 413, with what was typed)."""


def max_bytes() -> int:
    """The largest evidence file taken (``EVIDENCE_MAX_BYTES``)."""
    return int(current_app.config.get("EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)


def check_evidence(filename: str, data: bytes, limit: int | None = None) -> str:
    """The file's extension when ``data`` is a whole file of the kind its name states and
    within ``limit`` bytes (default: the configured limit), else :class:`DomainError` for
    the ``evidence`` field."""
    limit = max_bytes() if limit is None else limit
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in SIGNATURES:
        raise DomainError("只能上传 PDF、PNG、JPG、DOCX 或 XLSX 文件。", "evidence")
    if len(data) > limit:
        raise EvidenceTooLarge(
            N_("文件超过 {mb} MB 的上限，没有保存。请压缩或拆分后重新选择文件。"),
            "evidence",
            mb=megabytes(limit),
        )
    if not data:
        raise DomainError("所选文件是空的，请重新选择。", "evidence")
    if not data.startswith(SIGNATURES[ext]):
        raise DomainError("文件内容与扩展名不符。", "evidence")
    kind = KINDS[ext]
    if ext == ".pdf":
        _check_pdf(data)
    elif ext in (".png", ".jpg", ".jpeg"):
        _check_image(data, ext)
    elif not _office_ok(data, ext):
        raise DomainError(
            "这不是一个可以打开的 {kind} 文件（可能已损坏，或是改了扩展名的其他文件）。"
            "请用 Office 或 WPS 另存后重新选择。",
            "evidence",
            kind=kind,
        )
    return ext


def _not_a_pdf() -> DomainError:
    return DomainError(
        "这不是一个完整的 PDF 文件（读不出它的结构，可能只有文件头或没有下载完整）。"
        "请重新导出或扫描后选择。",
        "evidence",
    )


def _check_pdf(data: bytes) -> None:
    """A PDF's end (``startxref`` and ``%%EOF``) and, read by pypdf, a page tree with pages."""
    tail = data[-4096:]
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise _not_a_pdf()
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - a dependency; the structure is checked then
        if b"obj" not in data or (b"trailer" not in data and b"/XRef" not in data):
            raise _not_a_pdf() from None
        return
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - a cipher pypdf cannot run: its structure read
                return
            if not opened:
                raise DomainError(
                    "这个 PDF 设有打开密码，考核人员无法查看。请去掉密码后重新选择。", "evidence"
                )
        pages = len(reader.pages)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - whatever a damaged file makes the reader raise
        raise _not_a_pdf() from None
    if pages < 1:
        raise _not_a_pdf()


def _check_image(data: bytes, ext: str) -> None:
    """Decoded by Pillow: a JPEG's whole scan (at an eighth of its size, cheap), a PNG's
    chunks (CRCs) and its compressed pixels inflated to the size its header states."""
    from PIL import Image

    expected = "PNG" if ext == ".png" else "JPEG"
    broken = DomainError(
        "这不是一个可以打开的 {kind} 图片（可能已损坏或不完整），请重新选择。",
        "evidence",
        kind=KINDS[ext],
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise broken
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise DomainError(
                        "图片的像素数超过上限（{mp} 百万像素），请缩小后重新选择。",
                        "evidence",
                        mp=MAX_PIXELS // 1_000_000,
                    )
                image.verify()
            if expected == "JPEG":
                with Image.open(io.BytesIO(data)) as image:
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    image.load()
            elif not _png_pixels_complete(data):
                raise broken
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - Pillow's many ways of saying "cannot read this"
        raise broken from None


# bytes per pixel (in eighths of a byte per bit of depth) by PNG colour type
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_pixels_complete(data: bytes) -> bool:
    """The PNG's IDAT chunks inflate to a complete zlib stream of the size the header
    states (checked as it streams: memory stays flat, and a stream that would expand past
    that size is stopped)."""
    view = memoryview(data)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, colour, interlaced = data[24], data[25], data[28]
    if colour not in _PNG_CHANNELS:
        return False
    row = (width * _PNG_CHANNELS[colour] * depth + 7) // 8
    expected = height * (row + 1)  # a filter byte per row
    bound = 2 * expected + 1024  # Adam7's passes add filter bytes and padding
    inflater, out, pos = zlib.decompressobj(), 0, 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(view[pos + 4 : pos + 8])
        if kind == b"IDAT":
            chunk = view[pos + 8 : pos + 8 + length]
            while chunk:
                out += len(inflater.decompress(chunk, 1 << 20))
                if out > bound:
                    return False
                chunk = inflater.unconsumed_tail
        elif kind == b"IEND":
            return inflater.eof and (out == expected if not interlaced else out >= expected)
        pos += 12 + length
    return False


def _office_ok(data: bytes, ext: str) -> bool:
    """A zip whose ``[Content_Types].xml`` gives a part the main document type of ``ext``,
    that part present and well-formed XML (its CRC checked as it is read), within bounds."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
        if len(infos) > OFFICE_PARTS or sum(i.file_size for i in infos) > OFFICE_EXPANDED:
            return False
        names = {i.filename.lower(): i for i in infos}
        types = names.get("[content_types].xml")
        if types is None or types.file_size > MB:
            return False
        found: list[str] = []

        def start(name, attrs):
            if (
                name.rpartition(":")[2] == "Override"
                and attrs.get("ContentType") == (OFFICE_MAIN[ext])
            ):
                found.append(attrs.get("PartName", ""))

        _read_xml(book, types, start)
        main = names.get(found[0].lstrip("/").lower()) if found else None
        if main is None:
            return False
        _read_xml(book, main, lambda _name, _attrs: None)
    except (_Doctype, expat.ExpatError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error,
            EOFError, OSError, ValueError, NotImplementedError):  # fmt: skip
        return False
    return True


class _Doctype(Exception):
    pass


def _read_xml(book: zipfile.ZipFile, info: zipfile.ZipInfo, start) -> None:
    """Stream one part through expat (no DTD: no part of an office file has one), counting
    what it expands to."""
    parser = expat.ParserCreate()

    def no_dtd(*_args) -> None:
        raise _Doctype

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.ExternalEntityRefHandler = no_dtd
    parser.StartElementHandler = start
    expanded = 0
    with book.open(info) as fh:
        while True:
            chunk = fh.read(64 * 1024)
            expanded += len(chunk)
            if expanded > OFFICE_EXPANDED:
                raise ValueError("expands too far")
            parser.Parse(chunk, not chunk)
            if not chunk:
                return


def store_evidence(
    folder: str, finding: Evidenced, filename: str, data: bytes, checked: str | None = None
) -> str:
    """Check (:func:`check_evidence`) and store one evidence file for ``finding`` (or a
    ledger item, or a department's adjustment: anything with a cycle, a unit and an
    ``evidence`` name); returns its stored name. ``checked``: the extension
    :func:`check_evidence` already returned for these bytes (not read again).

    The stored name is random (it reveals nothing and cannot be guessed); the file goes
    under ``folder/<cycle>/<unit>/``. Flushed, not committed.
    """
    ext = checked or check_evidence(filename, data)
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
