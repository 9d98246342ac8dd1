"""Form helpers: what a browser would submit from a page's form."""

from __future__ import annotations

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The values a browser would submit from the page's first ``method="post"`` form with an ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside = action, False
        self.fields: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None
        self.data_timezone = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        name = a.get("name") or ""
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[name] = a.get("value") or ""
            self.data_timezone = self.data_timezone or "data-timezone" in a
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value") or ""
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        self.select = None if tag == "select" else self.select
        self.textarea = None if tag == "textarea" else self.textarea

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.fields[self.textarea] += data
