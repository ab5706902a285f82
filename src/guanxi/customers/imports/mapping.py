"""Which column of an uploaded file feeds which customer field, guessed from its header.

Headers are matched in Chinese or English, ignoring case, width (全角/半角), spaces,
punctuation and "required" stars, against the aliases below, the fields' own labels in
both languages and the custom fields' labels and keys. Choice values (kind, source, size,
status, gender) are likewise accepted as their labels in either language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from guanxi.customers.models import (
    Customer,
    CustomerKind,
    CustomerStatus,
    CustomFieldDefinition,
    SizeBand,
    SourceChannel,
)

CUSTOM_PREFIX = "custom."
TAGS = "tags"
LANGUAGES = ("en", "zh-hans")

# target key -> header aliases (the fields' labels in both languages are added to these)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("类型", "客户类型", "kind", "type", "customer type"),
    "name": (
        "名称",
        "姓名",
        "客户名称",
        "公司名称",
        "name",
        "company",
        "customer name",
        "full name",
    ),
    "code": ("客户编码", "编码", "客户编号", "code", "customer code"),
    "phone": (
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "联系电话",
        "phone",
        "mobile",
        "tel",
        "telephone",
    ),
    "email": ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail", "mail"),
    "region": ("省份", "省", "地区", "region", "province"),
    "city": ("城市", "city"),
    "gender": ("性别", "gender", "sex"),
    "birthday": ("生日", "出生日期", "birthday", "date of birth", "birth date", "dob"),
    "id_number": ("身份证号", "身份证", "身份证号码", "证件号码", "id number", "id", "id no"),
    "occupation": ("职业", "occupation", "job"),
    "legal_name": ("法定名称", "legal name"),
    "credit_code": ("统一社会信用代码", "信用代码", "credit code", "uscc"),
    "industry": ("行业", "industry"),
    "size_band": ("规模", "企业规模", "size"),
    "website": ("网站", "网址", "website", "url", "web"),
    "source": ("来源", "来源渠道", "source", "channel"),
    "status": ("状态", "status"),
    "bank_account": ("银行账号", "银行账户", "bank account"),
    "notes": ("备注", "notes", "note", "remarks"),
    TAGS: ("标签", "tags", "tag"),
}
FIELDS = tuple(FIELD_ALIASES)

CHOICE_FIELDS: dict[str, type[TextChoices]] = {
    "kind": CustomerKind,
    "source": SourceChannel,
    "size_band": SizeBand,
    "status": CustomerStatus,
}
EXTRA_CHOICE_ALIASES: dict[str, dict[str, str]] = {
    "kind": {
        "个人": "person",
        "个人客户": "person",
        "自然人": "person",
        "individual": "person",
        "企业": "enterprise",
        "企业客户": "enterprise",
        "公司": "enterprise",
        "company": "enterprise",
        "政府": "government",
        "政府机构": "government",
        "政府部门": "government",
        "government": "government",
        "机构投资者": "investor",
        "投资机构": "investor",
        "institutional investor": "investor",
        "investor": "investor",
    },
    "gender": {
        "男": "male",
        "女": "female",
        "m": "male",
        "f": "female",
        "male": "male",
        "female": "female",
        "男性": "male",
        "女性": "female",
    },
}
TAG_SEPARATORS = re.compile(r"[,;、|，；]")
_PUNCTUATION = re.compile(r"[\s_\-—:：*（）()\[\]【】.]+")


def normalise_header(text: Any) -> str:
    """ "  E-Mail *" → "e mail": width-folded, case-folded, punctuation turned into spaces."""
    folded = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return _PUNCTUATION.sub(" ", folded).strip()


def _field_label(key: str) -> str:
    if key == TAGS:
        return str(_("Tags"))
    found = next(f for f in Customer._meta.concrete_fields if f.name == key)
    return str(found.verbose_name)


def _aliases(definitions: Iterable[CustomFieldDefinition]) -> dict[str, str]:
    """normalised header -> target key; explicit aliases win over labels."""
    found: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            for key in FIELDS:
                found.setdefault(normalise_header(_field_label(key)), key)
    for definition in definitions:
        for label in (definition.key, definition.label_en, definition.label_zh):
            found.setdefault(normalise_header(label), f"{CUSTOM_PREFIX}{definition.key}")
    for key, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            found[normalise_header(alias)] = key
    return found


def auto_map(
    headers: list[str], definitions: Iterable[CustomFieldDefinition]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """(column index → target key or "", warnings) for a header row.

    A column whose header matches nothing, or a target already taken by an earlier column,
    is ignored and named in a warning.
    """
    aliases = _aliases(definitions)
    mapping: dict[str, str] = {}
    warnings: list[dict[str, Any]] = []
    taken: set[str] = set()
    for index, header in enumerate(headers):
        target = aliases.get(normalise_header(header), "")
        if target and target in taken:
            warnings.append(
                {
                    "column": index,
                    "header": header,
                    "message": _("A second column for the same field is ignored."),
                }
            )
            target = ""
        elif not target:
            warnings.append(
                {"column": index, "header": header, "message": _("Unknown column: ignored.")}
            )
        mapping[str(index)] = target
        taken.add(target)
    return mapping, warnings


def target_choices(
    definitions: Iterable[CustomFieldDefinition], language: str
) -> list[tuple[str, str]]:
    """Every field a column can feed, as (key, label) in the given language."""
    with translation.override(language):
        choices = [(key, capfirst(_field_label(key))) for key in FIELDS]
    choices += [(f"{CUSTOM_PREFIX}{d.key}", d.label(language)) for d in definitions]
    return choices


def mapping_clean(
    mapping: dict[str, Any], headers: list[str], definitions: Iterable[CustomFieldDefinition]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """A user's mapping checked against the columns and the targets: (mapping, errors)."""
    known = {key for key, _label in target_choices(definitions, "en")}
    cleaned: dict[str, str] = {str(index): "" for index in range(len(headers))}
    errors: list[dict[str, str]] = []
    used: dict[str, str] = {}
    for column, raw_target in mapping.items():
        target = str(raw_target or "").strip()
        column_key = str(column)
        if not column_key.isdigit() or int(column_key) >= len(headers):
            errors.append(
                {"field": f"mapping.{column_key}", "message": _("There is no such column.")}
            )
            continue
        if target and target not in known:
            errors.append({"field": f"mapping.{column_key}", "message": _("Unknown field.")})
            continue
        if target and target in used:
            errors.append(
                {
                    "field": f"mapping.{column_key}",
                    "message": _("Another column already feeds this field."),
                }
            )
            continue
        if target:
            used[target] = column_key
        cleaned[column_key] = target
    return cleaned, errors


def mapping_warnings(mapping: dict[str, str], headers: list[str]) -> list[dict[str, Any]]:
    """Warnings about a mapping: ignored columns, and missing name or kind columns."""
    warnings: list[dict[str, Any]] = [
        {"column": int(index), "header": headers[int(index)], "message": _("Ignored column.")}
        for index, target in sorted(mapping.items(), key=lambda item: int(item[0]))
        if not target and int(index) < len(headers)
    ]
    targets = set(mapping.values())
    warnings.extend(
        {
            "column": None,
            "header": "",
            "message": _(
                "No column feeds “%(field)s”: new customers need it, so rows that "
                "match no existing customer will be refused."
            )
            % {"field": _field_label(key)},
        }
        for key in ("name", "kind")
        if key not in targets
    )
    return warnings


def _choice_aliases() -> dict[str, dict[str, str]]:
    aliases: dict[str, dict[str, str]] = {}
    for key, choices in CHOICE_FIELDS.items():
        table: dict[str, str] = {}
        for language in LANGUAGES:
            with translation.override(language):
                for value, label in choices.choices:
                    if value:
                        table[str(label).casefold()] = str(value)
                        table[str(value).casefold()] = str(value)
        aliases[key] = table
    for key, extra in EXTRA_CHOICE_ALIASES.items():
        aliases.setdefault(key, {}).update(extra)
    return aliases


_CHOICES: dict[str, dict[str, str]] | None = None


def choice_value(key: str, raw: Any) -> Any:
    """A choice cell as its stored value when it is a known label or alias, else unchanged."""
    global _CHOICES
    if _CHOICES is None:
        _CHOICES = _choice_aliases()
    table = _CHOICES.get(key)
    if table is None or not isinstance(raw, str):
        return raw
    return table.get(unicodedata.normalize("NFKC", raw).strip().casefold(), raw)


def split_tags(raw: Any) -> list[str]:
    """Tag names from one cell: separated by , ; 、 | (full- or half-width), 50 characters."""
    names: list[str] = []
    for part in TAG_SEPARATORS.split(str(raw or "")):
        name = part.strip()[:50]
        if name and name not in names:
            names.append(name)
    return names
