"""PDF from the same HTML people print (WeasyPrint; a CJK font from Debian, see Makefile)."""

from __future__ import annotations


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render an HTML document (with its print CSS) to PDF bytes."""
    import weasyprint  # imported here: it loads Pango, which only the PDF needs

    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()
