"""Public article pages (no login): ``/learn`` lists the articles, ``/learn/{slug}`` shows one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from needlecare.knowledge.library import SLUG_PATTERN, article_by_slug, articles
from needlecare.web.deps import OptionalUser
from needlecare.web.errors import NotFoundError
from needlecare.web.learn.render import render_markdown
from needlecare.web.templating import render

router = APIRouter(include_in_schema=False)

#: Shown under every article, after its sources.
ARTICLE_NOTE = (
    "General information written by needlecare from the sources listed, not medical advice and not a "
    "diagnosis. Follow your provider's instructions when they differ."
)


@router.get("/learn")
def learn_index(request: Request, user: OptionalUser) -> Response:
    """Every article with its summary."""
    return render(request, "learn_list.html", {"user": user, "articles": articles()})


@router.get("/learn/{slug}")
def learn_article(
    request: Request, user: OptionalUser, slug: Annotated[str, Path(max_length=100, pattern=SLUG_PATTERN)]
) -> Response:
    """One article, its sources with grades, and the disclaimer."""
    article = article_by_slug(slug)
    if article is None:
        raise NotFoundError("No such article.")
    context = {
        "user": user,
        "article": article,
        "html": render_markdown(article.body),
        "sources": article.source_objects(),
        "note": ARTICLE_NOTE,
    }
    return render(request, "learn_article.html", context)
