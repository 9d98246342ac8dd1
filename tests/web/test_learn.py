"""Articles: the packaged Markdown files, the safe renderer and the public /learn pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from starlette.testclient import TestClient

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.library import articles
from needlecare.web.learn.pages import ARTICLE_NOTE
from needlecare.web.learn.render import render_markdown
from needlecare.web.templating import DISCLAIMER

from .conftest import api_signup, new_client

#: The five topics issue 5 asks for.
TOPICS = {
    "why-microneedling-causes-redness",
    "what-changes-how-long-redness-lasts",
    "managing-redness-day-by-day",
    "soothing-and-avoid-ingredients",
    "when-to-seek-medical-attention",
}

#: Tags the renderer may produce from Markdown (tables and lists included); any other tag is leaked raw HTML.
MARKDOWN_TAGS = {
    "p", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "br", "img",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


class _Tags(HTMLParser):
    """Collect every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_every_topic_has_an_article_citing_known_sources() -> None:
    found = articles()
    assert {a.slug for a in found} == TOPICS
    known = evidence().sources
    for article in found:
        assert article.sources, article.slug
        assert [s for s in article.sources if s not in known] == [], article.slug
        assert [s.id for s in article.source_objects()] == list(article.sources)


def test_articles_state_grades_and_label_the_working_rule_a_derivation() -> None:
    for article in articles():
        assert re.search(r"\bgrade [ABC]\b", article.body, re.IGNORECASE), article.slug
        if "working rule" in article.body.lower():
            assert "derivation" in article.body.lower(), article.slug
    rule = next(a for a in articles() if a.slug == "what-changes-how-long-redness-lasts")
    assert "not a published guideline" in rule.body
    assert "1–3 days" in rule.body
    assert "beyond 7 days" in rule.body


def test_learn_list_is_public_and_links_every_article(client: TestClient) -> None:
    r = client.get("/learn")
    assert r.status_code == 200
    for article in articles():
        assert f'href="/learn/{article.slug}"' in r.text
        assert article.title in r.text
    assert 'href="/newsletter"' in r.text


def test_site_navigation_links_to_learn_for_visitors_and_patients(app: FastAPI, client: TestClient) -> None:
    nav = re.compile(r'<nav id="main-nav" aria-label="Main">(.*?)</nav>', re.DOTALL)
    pages = [client.get("/login").text]
    with new_client(app) as patient:
        api_signup(patient)
        pages += [patient.get("/").text, patient.get("/account").text]
    for page in pages:
        found = nav.search(page)
        assert found is not None
        assert 'href="/learn"' in found.group(1)
    learn = client.get("/learn")  # the link works
    assert learn.status_code == 200
    assert all(f'href="/learn/{a.slug}"' in learn.text for a in articles())


@pytest.mark.parametrize("slug", sorted(TOPICS))
def test_article_page_ends_with_sources_then_disclaimer(client: TestClient, slug: str) -> None:
    r = client.get(f"/learn/{slug}")
    assert r.status_code == 200
    page = r.text
    article = next(a for a in articles() if a.slug == slug)
    body = page[page.index("<article") : page.index("</article>")]
    sources_at = body.index('id="sources-heading"')
    for source in article.source_objects():
        assert body.index(escape(source.citation)) > sources_at, source.id
    for text in article.other_sources:
        assert body.index(escape(text)) > sources_at
    assert body.index(escape(ARTICLE_NOTE)) > sources_at
    assert body.rstrip().endswith(f"{escape(ARTICLE_NOTE)} {escape(DISCLAIMER)}</p>")
    assert "<h2>" in body  # the Markdown was rendered


def test_tables_in_articles_become_html_tables(client: TestClient) -> None:
    page = client.get("/learn/soothing-and-avoid-ingredients").text
    assert "<table>" in page
    assert "<td>Retinoids (retinol, retinal, retinyl palmitate, tretinoin, adapalene, " in page


@pytest.mark.parametrize(
    ("path", "status"),
    [("/learn/no-such-article", 404), ("/learn/Not_A_Slug", 422), ("/learn/" + "a" * 101, 422)],
)
def test_unknown_or_invalid_slug_gets_a_friendly_page(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("markdown", "must_contain", "must_not_contain"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script"),
        ("hi <img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;", "<img"),
        ('<div onclick="x">\n<p>y</p>\n</div>', "&lt;div onclick=", "<div"),
        ("[x](javascript:alert(1))", "<a>x</a>", "javascript:"),
        ("[x](JaVaScRiPt:alert(1))", "<a>x</a>", "JaVaScRiPt:"),
        ("![i](data:text/html;base64,PHNjcmlwdD4=)", '<img alt="i">', "data:"),
        ("[x](//evil.example/)", "<a>x</a>", "evil.example"),
        (
            "[pubmed](https://pubmed.ncbi.nlm.nih.gov/1/)",
            'href="https://pubmed.ncbi.nlm.nih.gov/1/"',
            "<script",
        ),
        ("[next](/learn/managing-redness-day-by-day)", 'href="/learn/managing-redness-day-by-day"', "rel="),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>", "|---|"),
    ],
)
def test_renderer_escapes_raw_html_and_drops_unsafe_urls(
    markdown: str, must_contain: str, must_not_contain: str
) -> None:
    html = str(render_markdown(markdown))
    assert must_contain in html
    assert must_not_contain not in html


#: Pieces of Markdown and of hostile HTML that the property test glues together in any order.
FRAGMENTS = [
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<div onclick='x'>", "</div>",
    "<svg/onload=alert(1)>", '<a href="javascript:alert(1)">', "</a>", "<!-- c -->", "<iframe src=//x>",
    "[a](", "![i](", ")", "javascript:x", " JaVa\tScRiPt:x", "data:text/html,x", "https://ok.example/",
    "/learn", "<https://auto.example>", "<", ">", "&lt;", "&#60;", "text", " ", "\n", "\n\n", "**", "`",
    "    ", "| a | b |\n|---|---|\n", "- ", "> ",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_renderer_never_emits_foreign_tags_event_handlers_or_script_urls(text: str) -> None:
    for tag, attrs in _tags(str(render_markdown(text))):
        assert tag in MARKDOWN_TAGS, (text, tag)
        for name, value in attrs:
            assert not name.startswith("on"), (text, name)
            if name in ("href", "src") and value is not None:
                assert not re.sub(r"[\x00-\x20\x7f]", "", value).lower().startswith(("javascript:", "data:"))
