"""Commands on the product catalogue: create and change products and their categories."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.commerce.models import Product, ProductCategory
from guanxi.commerce.services import values as v
from guanxi.commerce.services.orders import check_version
from guanxi.core import events
from guanxi.core.errors import Conflict
from guanxi.core.permissions import require_perm

PRODUCT_FIELDS = frozenset(
    {"code", "name", "category", "category_id", "list_price", "unit_cost", "currency", "is_active"}
)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "是"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "否", ""})


def category_get_or_create(
    *, actor: User, name: str, parent: ProductCategory | None = None
) -> ProductCategory:
    """The category of that name under `parent`, created when missing (commerce.create)."""
    require_perm(actor, "commerce.create")
    category, _created = ProductCategory.objects.get_or_create(
        name=name.strip()[:100], parent=parent
    )
    return category


def _flag(raw: Any, field: str, errors: v.Errors) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw if raw is not None else "").strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    errors.fail(field, _("Enter true or false."))
    return None


def _apply_product(product: Product, values: dict[str, Any], errors: v.Errors) -> str | None:
    """Check `values` onto the product; returns a category name still to be found or made."""
    for name in sorted(set(values) - PRODUCT_FIELDS):
        errors.fail(name, _("This field is not allowed."))
    for name, limit in (("code", 40), ("name", 200)):
        if name in values:
            text = v.text(values[name], name, errors.fail, limit=limit)
            if text is not None:
                setattr(product, name, text)
        if not getattr(product, name) and not errors.has(name):
            errors.fail(name, _("This field is required."))
    for name in ("list_price", "unit_cost"):
        if name in values:
            number = v.amount(values[name], name, errors.fail)
            if number is not None:
                setattr(product, name, number)
    if not v.blank(values.get("currency")):
        product.currency = (
            v.currency(values["currency"], "currency", errors.fail) or product.currency
        )
    if "is_active" in values:
        flag = _flag(values["is_active"], "is_active", errors)
        if flag is not None:
            product.is_active = flag
    if "category_id" in values:
        raw = values["category_id"]
        if v.blank(raw):
            product.category = None
        else:
            category = (
                ProductCategory.objects.filter(pk=raw).first() if str(raw).isdigit() else None
            )
            if category is None:
                errors.fail("category_id", _("Choose an existing category."))
            else:
                product.category = category
    if "category" in values:
        category_name = v.text(values["category"], "category", errors.fail, limit=100)
        if category_name == "":
            product.category = None
        return category_name or None
    return None


@transaction.atomic
def product_save(
    *,
    actor: User,
    values: dict[str, Any],
    product: Product | None = None,
    version: int | None = None,
) -> Product:
    """Create a product (commerce.create) or change one (commerce.edit, version checked).

    The code is unique; prices are amounts ≥ 0; `category` names a top-level category that
    is created when missing. Publishes product.saved after commit.
    """
    creating = product is None
    require_perm(actor, "commerce.create" if creating else "commerce.edit")
    if product is None:
        product = Product()
    else:
        product = Product.objects.select_for_update().get(pk=product.pk)
        check_version(product.version, version)
    errors = v.Errors()
    category_name = _apply_product(product, values, errors)
    if (
        product.code
        and not errors.has("code")
        and Product.objects.filter(code=product.code).exclude(pk=product.pk).exists()
    ):
        errors.fail("code", _("This product code is already used."))
    errors.raise_any()
    if category_name:
        product.category = category_get_or_create(actor=actor, name=category_name)
    if not creating:
        product.bump_version()
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as error:
        raise Conflict(_("This product code is already used."), field="code") from error
    events.publish_on_commit("product.saved", product_id=product.pk, actor_id=actor.pk)
    return product
