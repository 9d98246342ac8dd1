"""Article loader: front matter is validated (known sources, slug = file name) with one-line errors."""

from __future__ import annotations

import datetime as dt
import shutil
from importlib import resources
from pathlib import Path

import pytest

from needlecare.knowledge.library import ArticleError, articles, load_articles, parse_article

ARTICLES = Path(str(resources.files("needlecare.knowledge").joinpath("articles")))

GOOD = """---
title: A title
slug: a-title
summary: Short.
updated: 2026-11-23
sources: [chu2021, clinic_pages]
---
Body with **Markdown**.
"""


def test_parse_valid_article() -> None:
    article = parse_article(GOOD, name="a-title.md")
    assert article.slug == "a-title"
    assert article.updated == dt.date(2026, 11, 23)
    assert article.sources == ("chu2021", "clinic_pages")
    assert [s.grade for s in article.source_objects()] == ["A", "C"]
    assert article.body == "Body with **Markdown**."


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("No front matter.\n", "x.md", "no front matter"),
        ("---\n[unclosed\n---\nbody\n", "x.md", "not valid YAML"),
        ("---\n- a list\n---\nbody\n", "x.md", "must be a mapping"),
        (
            GOOD.replace("[chu2021, clinic_pages]", "[chu2021, nobody2099]"),
            "a-title.md",
            "unknown source id(s) 'nobody2099'",
        ),
        (GOOD.replace("[chu2021, clinic_pages]", "[]"), "a-title.md", "sources"),
        (GOOD.replace("[chu2021, clinic_pages]", "[chu2021, chu2021]"), "a-title.md", "listed twice"),
        (GOOD, "other-name.md", "must match the file name"),
        (GOOD.replace("slug: a-title", "slug: A Title"), "a-title.md", "slug"),
        (GOOD.replace("updated: 2026-11-23", "updated: yesterday"), "a-title.md", "updated"),
        (GOOD.replace("summary: Short.\n", ""), "a-title.md", "summary"),
        (GOOD.replace("summary: Short.", "summary: Short.\nauthor: me"), "a-title.md", "author"),
        (GOOD.replace("Body with **Markdown**.\n", ""), "a-title.md", "body"),
    ],
)
def test_invalid_articles_are_rejected_with_the_file_name(text: str, name: str, message: str) -> None:
    with pytest.raises(ArticleError, match=r"^" + name.replace(".", r"\.") + ": ") as info:
        parse_article(text, name=name)
    assert message in str(info.value)


def test_packaged_articles_are_cached_and_ordered() -> None:
    found = articles()
    assert articles() is found
    assert [a.order for a in found] == sorted(a.order for a in found)
    assert len(found) == len(list(ARTICLES.glob("*.md")))


def test_duplicate_order_is_rejected(tmp_path: Path) -> None:
    for path in ARTICLES.glob("*.md"):
        shutil.copy(path, tmp_path / path.name)
    assert len(load_articles(tmp_path)) == len(articles())
    (tmp_path / "a-title.md").write_text(GOOD.replace("summary:", "order: 1\nsummary:"), encoding="utf-8")
    with pytest.raises(ArticleError, match="same 'order'"):
        load_articles(tmp_path)
