"""Knowledge-base commands: categories, articles in both languages, helpful votes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import require_perm
from guanxi.portal.models import Article, ArticleCategory, ArticleVote, Visibility

ARTICLE_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "visibility", "is_published")


def category_save(
    *,
    actor: User,
    name_zh: str,
    name_en: str,
    position: int = 0,
    category: ArticleCategory | None = None,
) -> ArticleCategory:
    """Create or rename a knowledge-base category (needs service.edit)."""
    require_perm(actor, "service.edit")
    if not (name_zh.strip() or name_en.strip()):
        raise DomainError(_("Give the category a name."), field="name_en")
    category = category or ArticleCategory()
    category.name_zh, category.name_en = name_zh.strip()[:80], name_en.strip()[:80]
    category.position = position
    category.save()
    return category


def _apply(article: Article, values: dict[str, Any]) -> None:
    for field in ARTICLE_FIELDS:
        if field in values and values[field] is not None:
            value = values[field]
            setattr(article, field, value.strip() if isinstance(value, str) else value)
    if "category_id" in values:
        category_id = values["category_id"]
        if category_id and not ArticleCategory.objects.filter(pk=category_id).exists():
            raise DomainError(_("No such category."), field="category_id")
        article.category_id = category_id or None
    errors = []
    if not (article.title_zh or article.title_en):
        errors.append({"field": "title_en", "message": _("Give the article a title.")})
    if not (article.body_zh or article.body_en):
        errors.append({"field": "body_en", "message": _("Write the article's text.")})
    if article.visibility not in Visibility.values:
        errors.append({"field": "visibility", "message": _("Choose one of the allowed values.")})
    if len(article.title_zh) > 200 or len(article.title_en) > 200:
        errors.append({"field": "title_en", "message": _("This value is too long.")})
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)


@transaction.atomic
def article_create(*, actor: User, values: dict[str, Any]) -> Article:
    """Write a new article (needs service.create); publishes kb.article_created."""
    require_perm(actor, "service.create")
    article = Article(created_by=actor)
    _apply(article, values)
    article.save()
    events.publish_on_commit("kb.article_created", article_id=article.pk)
    return article


@transaction.atomic
def article_update(
    *, actor: User, article: Article, values: dict[str, Any], version: int | None = None
) -> Article:
    """Edit an article (needs service.edit); a stale version is refused."""
    require_perm(actor, "service.edit")
    check_version(article.version, version)
    _apply(article, values)
    article.bump_version()
    article.save()
    return article


def article_delete(*, actor: User, article: Article) -> None:
    """Remove an article and its votes (needs service.delete)."""
    require_perm(actor, "service.delete")
    article.delete()


def article_vote(*, article: Article, voter: str, helpful: bool) -> bool:
    """Count one "was this helpful" answer per voter key; False when the voter already voted.

    The voter key names a portal account, a staff user or an anonymous session; the unique
    constraint makes the once-only rule hold under concurrent clicks too.
    """
    try:
        with transaction.atomic():
            ArticleVote.objects.create(article=article, voter=voter[:80], helpful=helpful)
            column = "helpful_yes" if helpful else "helpful_no"
            Article.objects.filter(pk=article.pk).update(**{column: F(column) + 1})
    except IntegrityError:
        return False
    return True
