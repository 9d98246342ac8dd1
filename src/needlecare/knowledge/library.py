"""The patient articles in ``knowledge/articles/*.md``: YAML front matter plus a Markdown body, validated.

Each file starts with a front matter block between two ``---`` lines::

    ---
    title: Why microneedling makes your skin red
    slug: why-microneedling-causes-redness
    order: 1
    summary: One or two sentences for the article list.
    updated: 2026-11-23
    sources: [chu2021, skinpen2018]
    other_sources: ["Fulton 1990: aloe vera after dermabrasion (B)"]
    ---

``sources`` are ids from ``knowledge/data/sources.yaml`` (checked against
:func:`needlecare.knowledge.evidence.evidence`); ``other_sources`` are optional free-text citations,
transcribed from evidence.md, for studies that are not in ``sources.yaml``. The slug must equal the file name
without ``.md``.

Use :func:`articles` (cached, packaged files) or :func:`load_articles` (any directory, uncached; for tests).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from needlecare.knowledge.evidence import Source, check_known_sources, evidence

#: A URL-safe slug: lower-case words joined by single hyphens.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<meta>.*?)\r?\n---[ \t]*\r?\n(?P<body>.*)\Z", re.DOTALL)


class ArticleError(ValueError):
    """An article has no front matter, has invalid fields, cites an unknown source or clashes with another."""


class Article(BaseModel):
    """One article: its front matter fields and the Markdown ``body`` (not yet rendered)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(min_length=1, max_length=200)]
    slug: Annotated[str, Field(pattern=SLUG_PATTERN, max_length=100)]
    order: int = 0
    summary: Annotated[str, Field(min_length=1, max_length=500)]
    updated: dt.date
    sources: Annotated[tuple[str, ...], Field(min_length=1)]
    other_sources: tuple[str, ...] = ()
    body: Annotated[str, Field(min_length=1)]

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        check_known_sources(value, info)
        if len(set(value)) != len(value):
            raise ValueError("a source id is listed twice")
        return value

    def source_objects(self) -> list[Source]:
        """The cited :class:`~needlecare.knowledge.evidence.Source` objects, in front-matter order."""
        table = evidence().sources
        return [table[s] for s in self.sources]


def parse_article(
    text: str, *, name: str = "<article>", known_sources: Iterable[str] | None = None
) -> Article:
    """Parse one article file's text.

    Parameters
    ----------
    text
        The whole file: front matter between ``---`` lines, then Markdown.
    name
        File name, used in error messages and to check the slug (``<slug>.md``).
    known_sources
        Valid source ids; defaults to those of the packaged ``sources.yaml``.

    Raises
    ------
    ArticleError
        One line naming the file and the problem.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ArticleError(f"{name}: no front matter (the file must start with a '---' block)")
    try:
        meta: Any = yaml.safe_load(match.group("meta"))
    except yaml.YAMLError as exc:
        raise ArticleError(f"{name}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise ArticleError(f"{name}: front matter must be a mapping")
    if "body" in meta:
        raise ArticleError(f"{name}: 'body' is not a front matter field")
    known = set(known_sources) if known_sources is not None else set(evidence().sources)
    try:
        article = Article.model_validate(
            {**meta, "body": match.group("body").strip()}, context={"sources": known}
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ArticleError(f"{name}: {problems}") from exc
    if name.endswith(".md") and name.removesuffix(".md") != article.slug:
        raise ArticleError(f"{name}: slug {article.slug!r} must match the file name")
    return article


def load_articles(directory: Path | Any) -> tuple[Article, ...]:
    """Every ``*.md`` article in *directory* (a path or an importlib resource), by ``order`` then title.

    Raises
    ------
    ArticleError
        For the first invalid file, or when two files share an ``order`` value.
    """
    found = [
        parse_article(entry.read_text(encoding="utf-8"), name=entry.name)
        for entry in directory.iterdir()
        if entry.name.endswith(".md")
    ]
    orders = [a.order for a in found]
    if len(set(orders)) != len(orders):
        raise ArticleError("two articles share the same 'order' value")
    return tuple(sorted(found, key=lambda a: (a.order, a.title)))


@cache
def articles() -> tuple[Article, ...]:
    """The packaged articles (``needlecare/knowledge/articles``), validated once and cached."""
    return load_articles(resources.files("needlecare.knowledge").joinpath("articles"))


def article_by_slug(slug: str) -> Article | None:
    """The packaged article with *slug*, or ``None``."""
    return next((a for a in articles() if a.slug == slug), None)
