"""Markdown to safe HTML (Python-Markdown) for the articles.

Raw HTML in the Markdown is never passed through: the block and inline HTML processors are removed, so
``<script>`` or ``<div onclick=...>`` come out as escaped text. Links and images keep only ``http``, ``https``
and ``mailto`` URLs or relative ones (``javascript:``, ``data:`` and other schemes are dropped). Tables and
sane lists are enabled; extensions that add attributes (``attr_list``) are deliberately not.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from urllib.parse import urlsplit

import markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

#: URL schemes a link or image may use; relative URLs (no scheme) are always allowed.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

#: Attributes holding URLs.
URL_ATTRIBUTES = ("href", "src")


def is_safe_url(url: str) -> bool:
    """True for relative URLs and those with an allowed scheme.

    Control characters and whitespace are removed first, as browsers do (``java\\tscript:`` is a scheme).

    >>> is_safe_url("https://pubmed.ncbi.nlm.nih.gov/22882208/"), is_safe_url("/learn"), is_safe_url("#top")
    (True, True, True)
    >>> is_safe_url("javascript:alert(1)"), is_safe_url(" JaVa\\tScRiPt:x"), is_safe_url("data:text/html,x")
    (False, False, False)
    """
    cleaned = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return False
    return (scheme == "" and not cleaned.startswith("//")) or scheme in ALLOWED_SCHEMES


class _UrlFilter(Treeprocessor):  # type: ignore[misc]  # markdown ships no type hints
    """Drop URL attributes with a disallowed scheme; mark external links ``rel="noopener noreferrer"``."""

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            for attribute in URL_ATTRIBUTES:
                value = element.get(attribute)
                if value is not None and not is_safe_url(value):
                    del element.attrib[attribute]
            if element.tag == "a" and element.get("href", "").startswith(("http://", "https://")):
                element.set("rel", "noopener noreferrer")


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_UrlFilter(md), "url_filter", 0)
    return md


@lru_cache(maxsize=64)
def render_markdown(text: str) -> Markup:
    """HTML for Markdown *text*, safe to insert into a page (raw HTML escaped, unsafe URLs dropped).

    >>> str(render_markdown("Hello <b>world</b> [x](javascript:alert(1))"))
    '<p>Hello &lt;b&gt;world&lt;/b&gt; <a>x</a></p>'
    """
    return Markup(_markdown().convert(text))
