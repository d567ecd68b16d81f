"""The error every domain function raises for a person's mistake.

``message`` is a source (Chinese) message with ``{name}`` placeholders; it is
translated where the language is known: a page shows it by ``field``, a command
prints it and exits 2.
"""

from __future__ import annotations


class DomainError(ValueError):
    def __init__(self, message: str, field: str | None = None, **params: object):
        self.message, self.field, self.params = message, field, params
        super().__init__(message.format(**params) if params else message)

    def text(self, translate=None) -> str:
        """The message in the caller's language (``translate`` is a gettext)."""
        message = translate(self.message) if translate is not None else self.message
        return message.format(**self.params) if self.params else message
