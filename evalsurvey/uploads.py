"""Forms that carry an evidence file: a file too large for them comes back as the form, with
what was typed and a sentence naming the limit, never as a bare "too large" page.

Werkzeug refuses (413) a body past ``max_content_length`` before reading a byte of it, so
the page could only answer with an error and the typed text was lost. On these pages the
body is read by :class:`BoundedFormParser` instead: every file part keeps at most the
configured limit plus one byte (the rest is counted and dropped, so the check that follows
sees a file "too large"), the text fields are read as usual (each within
``max_form_memory_size``), and reading stops once the body passes a cap several times the
limit — a person who picked a slightly-too-large file gets their form back; reading an
endless body is not something a person asks for. The rest of a body past the cap is left
unread, as with any 413. Each form puts its file field last, so the text comes before it.
"""

from __future__ import annotations

import sys
import tempfile
from functools import partial
from typing import IO, Any

from flask import Request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

CHUNK = 64 * 1024
# The text fields and the multipart framing around one file (a note of 2,000 characters is
# 6 KB); a form with a file of exactly the limit fits.
FORM_ALLOWANCE = 64 * 1024
# How far past the limit a body is still read to the end (its files dropped as they come)
# so the page can answer with the form.
DRAIN_FACTOR = 4


def megabytes(n: int) -> str:
    """``10485760`` → ``"10"``, ``1572864`` → ``"1.5"``: a size as forms state it, in MB."""
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0")


class BoundedFile:
    """A file part's bytes, kept up to ``keep`` bytes (spooled to disk past 500 KB as
    Werkzeug's own); :attr:`size` counts every byte received."""

    def __init__(self, keep: int):
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=500 * 1024, mode="w+b")
        self.keep, self.size = keep, 0

    @property
    def overflow(self) -> bool:
        return self.size > self.keep

    def write(self, data: bytes) -> None:
        room = self.keep - min(self.size, self.keep)
        if room:
            self._file.write(data[:room])
        self.size += len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class BoundedFormParser(FormDataParser):
    """Werkzeug's multipart parsing (its sans-IO decoder, its limits on text fields and
    parts), with every file part kept to ``file_limit + 1`` bytes and the body read to at
    most ``body_cap`` bytes."""

    def __init__(self, *args: Any, file_limit: int, body_cap: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.file_limit, self.body_cap = file_limit, body_cap

    def _parse_multipart(self, stream, mimetype, content_length, options):
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        decoder = MultipartDecoder(
            boundary, self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        container: list[bytes] | BoundedFile | None = None
        field_size, read = 0, 0
        while True:
            data = stream.read(min(CHUNK, self.body_cap - read)) if read < self.body_cap else b""
            if not data and read >= self.body_cap and stream.read(1):
                # past the cap: keep what is complete, and the file being read as "too large"
                if isinstance(part, File) and isinstance(container, BoundedFile):
                    container.size = max(container.size, container.keep + 1)
                    files.append((part.name, self._file(part, container)))
                break
            read += len(data)
            decoder.receive_data(data or None)
            event = decoder.next_event()
            while not isinstance(event, Epilogue | NeedData):
                if isinstance(event, Field):
                    part, container, field_size = event, [], 0
                elif isinstance(event, File):
                    part, container = event, BoundedFile(self.file_limit + 1)
                elif isinstance(event, Data):
                    if isinstance(container, list):
                        field_size += len(event.data)
                        if self.max_form_memory_size and field_size > self.max_form_memory_size:
                            raise RequestEntityTooLarge()
                        container.append(event.data)
                    elif container is not None:
                        container.write(event.data)
                    if not event.more_data and part is not None:
                        if isinstance(container, list):
                            text = b"".join(container).decode(self._charset(part), "replace")
                            fields.append((part.name, text))
                        elif container is not None:
                            files.append((part.name, self._file(part, container)))
                        part, container = None, None
                event = decoder.next_event()
            if not data:
                break
        return stream, self.cls(fields), self.cls(files)

    @staticmethod
    def _file(part: File, container: BoundedFile) -> FileStorage:
        container.seek(0)
        return FileStorage(container, part.filename, part.name, headers=part.headers)

    @staticmethod
    def _charset(part: Field) -> str:
        return MultiPartParser().get_part_charset(part.headers)


def bound_files(request: Request, file_limit: int) -> None:
    """Read this request's multipart body with :class:`BoundedFormParser` (before anything
    reads the form): files to ``file_limit`` bytes, text fields as usual."""
    if request.mimetype != "multipart/form-data":
        # no browser sends these pages another body; one is held to the form's own size
        request.max_content_length = file_limit + FORM_ALLOWANCE
        return
    body_cap = DRAIN_FACTOR * file_limit + FORM_ALLOWANCE
    # the parser stops at the cap itself: Werkzeug's own check would refuse the whole body
    # unread (and the typed text with it)
    request.max_content_length = sys.maxsize
    # Werkzeug holds back part of a 64 KiB chunk (a line-break byte near its end may start
    # the boundary): twice the chunk keeps a file part from passing this text-field limit
    request.max_form_memory_size = 2 * CHUNK
    request.form_data_parser_class = partial(
        BoundedFormParser, file_limit=file_limit, body_cap=body_cap
    )


def too_large(upload: FileStorage | None) -> bool:
    """Whether an uploaded file was cut at the limit by :class:`BoundedFormParser`."""
    return bool(getattr(getattr(upload, "stream", None), "overflow", False))
