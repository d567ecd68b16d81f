"""The staff pages' forms as a browser sees them: every ``<form>`` of a page with its
action, fields (the values a browser would send) and the choices a person could make."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value sent unchanged
    choices: dict[str, list[str]] = field(default_factory=dict)  # selects, radios, buttons
    files: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted({*self.fields, *self.choices, *self.files})


class _Forms(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.form = Form(
                action=a.get("action") or self.page_url,
                method=(a.get("method") or "get").upper(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self.form)
            return
        form, name = self.form, a.get("name")
        if form is None or not name:
            if tag == "option" and form is not None and self.select:
                form.choices.setdefault(self.select, []).append(a.get("value", ""))
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind in ("submit", "image"):
                form.choices.setdefault(name, []).append(a.get("value", ""))
            else:
                form.fields[name] = a.get("value", "")
        elif tag == "button":
            form.choices.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self.select = name
            form.choices.setdefault(name, [])
        elif tag == "textarea":
            self.textarea = name
            form.fields[name] = ""

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_of(html: str, page_url: str) -> list[Form]:
    parser = _Forms(page_url)
    parser.feed(html)
    return parser.forms
