"""The interface is complete in both languages.

- Every message in the code and templates has an English translation, with the same
  placeholders.
- Every staff page of the demo, crawled in Chinese, shows no raw code and no English
  sentence (identifiers shown on purpose are marked ``<code>``); crawled in English,
  no page fails.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from evalsurvey import demo
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from tests.factories import login

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "_l": None,
    "N_": None,
    "DomainError": None,
    "QuestionnaireError": None,
    "PublishedError": None,
    "problem": (3,),
}
METHODS = [("evalsurvey/**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"\{(\w+)")


def _messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_english_with_the_same_placeholders():
    with open(ROOT / "evalsurvey/translations/en/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    messages = _messages()
    assert len(messages) > 300  # the extraction itself works
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], "run `make translations-update` and translate: " + ", ".join(missing)
    for m in messages:
        assert set(PLACEHOLDER.findall(m)) == set(PLACEHOLDER.findall(catalog.get(m).string)), m


# -- the crawl -------------------------------------------------------------------------------

# codes that must never reach a Chinese page as they are
CODES = {
    "draft",
    "open",
    "closed",
    "published",
    "admin",
    "inspector",
    "panel",
    "unit_contact",
    "viewer",
    "public",
    "invite",
    "qr",
    "import",
    "paper",
    "citizen",
    "member",
    "leader",
    "department",
    "district",
    "street",
    "community",
    "agency_branch",
    "enterprise",
    "village",
    "service_window",
    "valid",
    "suspect",
    "excluded",
    "year",
    "half",
    "quarter",
    "month",
    "speeder",
    "duplicate",
    "burst",
    "surge",
    "in_surge",
    "straightline",
    "outlier",
    "flat_rater",
    "lenient",
    "severe",
    "collusion",
    "own_unit",
    "adjusted",
    "trimmed",
    "mean",
    "satisfaction5",
    "scale10",
    "points",
    "single",
    "multiple",
    "text",
    "create",
    "update",
    "delete",
    "None",
    "True",
    "False",
    # rule categories, rule kinds and grade codes (issue 17)
    "piece",
    "project",
    "recognised",
    "case",
    "city",
    "province",
    "checklist",
    "tiers",
    "manual",
    "star5",
    "star4",
}
# in either language, outside <code>: a field name or error code (publication_id, run_id,
# children_sum, no_grades, five_star); anywhere: a UTC ISO time or a Python repr
SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
RAW_ANYWHERE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\{'|\['")
SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,'-]+[A-Za-z]{2,}){2,}")
# proper names allowed on Chinese pages
ALLOWED = (
    "Kendall",
    "Krippendorff",
    "English",
    "evalsurvey",
    "EVALSURVEY_PUBLIC_BASE_URL",
    "rater_code",
    "rater_unit",
)  # the invitation list's English headers, typed as such


class _Page(HTMLParser):
    """Visible text of <main> (outside <code>, <script>, <style>) and its links."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.coded: list[str] = []  # inside <code> too
        self.links: list[str] = []
        self._main = self._skip = self._code = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self._main += 1
        if tag in ("code", "script", "style", "option", "textarea"):
            self._skip += 1
        self._code += tag == "code"
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "main":
            self._main -= 1
        if tag in ("code", "script", "style", "option", "textarea"):
            self._skip -= 1
        self._code -= tag == "code"

    def handle_data(self, data):
        if self._main and not self._skip:
            self.text.append(data)
        if self._main and (not self._skip or self._skip == self._code):
            self.coded.append(data)


def _problems(html: str, lang: str = "zh") -> tuple[list[str], list[str]]:
    page = _Page()
    page.feed(html)
    text = " ".join(page.text)
    for name in ALLOWED:
        text = text.replace(name, " ")
    found = SNAKE.findall(text) + RAW_ANYWHERE.findall(" ".join(page.coded))
    if lang == "zh":
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        found = sorted(words & CODES) + SENTENCE.findall(text) + found
    return found, page.links


@pytest.fixture
def demo_site(app):
    demo.load(n_responses=400, seed=3, history=True)  # an earlier, published cycle too
    cycle = db.session.scalar(db.select(Cycle).order_by(Cycle.id.desc()))
    assert analysis.latest_runs(cycle)  # the demo stores its results as runs
    return cycle


def _crawl(client, lang: str, limit: int = 400, least: int = 30) -> dict[str, list[str]]:
    seen, todo, found = set(), deque(["/admin/"]), {}
    while todo and len(seen) < limit:
        url = todo.popleft()
        if url in seen:
            continue
        seen.add(url)
        resp = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        assert resp.status_code < 500, url
        if resp.mimetype != "text/html" or resp.status_code != 200:
            continue
        problems, links = _problems(resp.get_data(as_text=True), lang)
        if problems:
            found[url] = problems
        for link in links:
            link = re.sub(r"[?&]lang=\w+", "", link).rstrip("?")
            # PDFs and workbooks are tested by their content elsewhere
            wanted = link.startswith("/admin") and not link.split("?")[0].endswith(
                (".pdf", ".xlsx", ".sav")
            )
            if wanted and link not in seen and "page=" not in link[6:]:
                todo.append(link)
    assert len(seen) >= least  # the crawl reached the site
    return found


def test_every_staff_page_in_chinese_has_no_raw_code_or_english(demo_site, client):
    login(client, "admin", "admin-demo-2026")
    found = _crawl(client, "zh")
    assert found == {}, "\n".join(f"{u}: {p[:12]}" for u, p in found.items())


def test_every_staff_page_in_english_and_as_a_unit_contact_answers(demo_site, app):
    admin = app.test_client()
    login(admin, "admin", "admin-demo-2026")
    found = _crawl(admin, "en")
    assert found == {}, "\n".join(f"{u}: {p[:12]}" for u, p in found.items())
    contact = app.test_client()
    login(contact, "c0101", "admin-demo-2026")
    assert _crawl(contact, "zh", limit=200, least=8) == {}
    viewer = app.test_client()
    login(viewer, "viewer", "admin-demo-2026")
    assert _crawl(viewer, "zh", limit=200, least=20) == {}
    for user in ("s01", "inspector", "petitions"):  # the street, the district, a department
        other = app.test_client()
        login(other, user, "admin-demo-2026")
        assert _crawl(other, "zh", limit=200, least=2) == {}, user
