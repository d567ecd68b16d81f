"""The layout a newcomer can read (issue 16): which part may import which.

Imports are read from the source (function-level ones too), so a circle hidden inside a
function is found as well as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "evalsurvey"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ``evalsurvey`` module ``path`` imports, wherever in the file the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = _module(path).split(".")
                package = here if path.name == "__init__.py" else here[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "evalsurvey"}


def _reaches(names: set[str], area: str) -> set[str]:
    return {name for name in names if name == area or name.startswith(area + ".")}


def test_error_pages_import_no_area():
    """errors.py is imported by the public pages (and every area may use it): it must not
    import them back (it did, inside its CSRF handler)."""
    names = imports_of(PACKAGE / "errors.py")
    for area in ("evalsurvey.public", "evalsurvey.admin", "evalsurvey.auth"):
        assert not _reaches(names, area), area


def test_the_domain_does_not_hold_or_import_the_demo():
    assert not (PACKAGE / "domain" / "demo.py").exists()
    for path in (PACKAGE / "domain").rglob("*.py"):
        assert not _reaches(imports_of(path), "evalsurvey.demo"), path


def test_the_reader_sees_function_level_and_relative_imports(tmp_path):
    """The check above can fail: a nested import is found."""
    source = PACKAGE / "errors.py"
    assert "evalsurvey.domain.errors" in imports_of(source)
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from evalsurvey.public.views import x\n", encoding="utf-8")
    assert "evalsurvey.public.views" in imports_of(sample)


def test_auth_does_not_import_admin():
    """Signing in and one's own password work without the staff pages' modules: what both
    use (the form base, a DomainError by its field) is evalsurvey.web."""
    for path in (PACKAGE / "auth").rglob("*.py"):
        assert not _reaches(imports_of(path), "evalsurvey.admin"), path
    assert not _reaches(imports_of(PACKAGE / "web.py"), "evalsurvey.admin")


FOUNDATIONS = {
    "access",
    "api_tokens",
    "checks",
    "cycles",
    "errors",
    "queries",
    "signin",
    "staff",
    "units",
}
AREAS = ("collecting", "assessment", "results", "files")


def test_the_domain_is_split_by_what_it_serves():
    """The top of domain/ holds only what every area builds on; each area is a package, and
    the foundations import none of them (so an area can be read without the others)."""
    domain = PACKAGE / "domain"
    top = {p.stem for p in domain.glob("*.py")} - {"__init__"}
    assert top <= FOUNDATIONS, top - FOUNDATIONS
    assert {p.name for p in domain.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        AREAS
    )
    for name in top:
        names = imports_of(domain / f"{name}.py")
        for area in AREAS:
            assert not _reaches(names, f"evalsurvey.domain.{area}"), (name, area)
