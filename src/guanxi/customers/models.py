"""Customer 360: customers of four kinds, their people, addresses, groups, tags, custom
fields, consent, and the search tokens that make short Chinese names fast to find."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.core.crypto import EncryptedTextField
from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Individual")
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Government agency")
    INVESTOR = "investor", _("Institutional investor")


ORGANISATION_KINDS = (CustomerKind.ENTERPRISE, CustomerKind.GOVERNMENT, CustomerKind.INVESTOR)


class SourceChannel(models.TextChoices):
    ONLINE_FORM = "online_form", _("Online form")
    OFFLINE_EVENT = "offline_event", _("Offline event")
    SOCIAL_MEDIA = "social_media", _("Social media")
    SERVICE_RECORD = "service_record", _("Service record")
    REFERRAL = "referral", _("Referral")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    INTRODUCTION = "introduction", _("Introduction")
    GROWTH = "growth", _("Growth")
    MATURITY = "maturity", _("Maturity")
    DECLINE = "decline", _("Decline")
    CHURNED = "churned", _("Churned")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not given")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class SizeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MICRO = "micro", _("Fewer than 10 employees")
    SMALL = "small", _("10–99 employees")
    MEDIUM = "medium", _("100–999 employees")
    LARGE = "large", _("1,000–9,999 employees")
    HUGE = "huge", _("10,000 or more employees")


class Industry(models.Model):
    """A configurable industry list, seeded with the GB/T 4754-2017 sections A–T."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering: ClassVar[list[str]] = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh} / {self.name_en}"


class CustomerQuerySet(ScopedQuerySet["Customer"]):
    pass


class Customer(TimeStampedModel):
    """A customer: a person or an organisation, owned by a user within a team.

    Personal data (phone, email, ID number, bank account) is encrypted; the *_index columns
    hold keyed hashes for exact lookups, `phone_last4` serves "last four digits" search.
    """

    code = models.CharField(_("customer code"), max_length=32, unique=True, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=CustomerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=400, blank=True)
    name_initials = models.CharField(_("pinyin initials"), max_length=100, blank=True)
    # The name folded for duplicate checks: case, spaces, punctuation, legal suffixes gone.
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    source = models.CharField(
        _("source channel"),
        max_length=20,
        choices=SourceChannel.choices,
        default=SourceChannel.OTHER,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=15, choices=LifecycleStage.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        db_index=False,  # customer_owner_recent leads with owner
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,  # customer_team_recent leads with team
    )
    notes = models.TextField(_("notes"), blank=True)

    # Contact points (encrypted at rest; see the class docstring).
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    phone_index = models.CharField(max_length=32, blank=True, editable=False)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    email = EncryptedTextField(_("email"), blank=True, default="")
    email_index = models.CharField(max_length=32, blank=True, editable=False)
    region = models.CharField(_("province / region"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)

    # Individuals.
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True, default="")
    id_number_index = models.CharField(max_length=32, blank=True, editable=False)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    bank_account = EncryptedTextField(_("bank account"), blank=True, default="")

    # Organisations.
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), null=True, blank=True, on_delete=models.PROTECT
    )
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    website = models.URLField(_("website"), blank=True)

    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )
    groups: models.ManyToManyField[CustomerGroup, GroupMembership] = models.ManyToManyField(
        "CustomerGroup", through="GroupMembership", related_name="customers", blank=True
    )
    tags: models.ManyToManyField[Tag, CustomerTag] = models.ManyToManyField(
        "Tag", through="CustomerTag", related_name="customers", blank=True
    )

    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "name_pinyin",
            "name_initials",
            "phone_index",
            "phone_last4",
            "email_index",
            "id_number_index",
        ],
        # History pages read one customer's rows newest first: the primary key and the
        # `id` and `history_date` indexes serve them; the copied fields' indexes only
        # slowed every write (22 indexes before).
        no_db_index=[
            "code",
            "name_key",
            "owner",
            "team",
            "region",
            "city",
            "credit_code",
            "industry",
            "merged_into",
            "created_at",
        ],
    )
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Every index costs each imported row a write, so each one here serves a query:
        # plain B-trees (declared here, not with db_index=True, which on PostgreSQL adds a
        # varchar_pattern_ops twin that no query uses) for the exact lookups of search and
        # import matching, and the prefix ranges of pinyin search.
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["phone_index"], name="customer_phone_index"),
            models.Index(fields=["email_index"], name="customer_email_index"),
            models.Index(fields=["id_number_index"], name="customer_id_number_index"),
            models.Index(fields=["credit_code"], name="customer_credit_code"),
            models.Index(fields=["phone_last4"], name="customer_phone_last4"),
            models.Index(fields=["name_pinyin"], name="customer_name_pinyin"),
            models.Index(fields=["name_initials"], name="customer_name_initials"),
            models.Index(fields=["region", "-id"], name="customer_region_recent"),
            models.Index(fields=["owner", "-id"], name="customer_owner_recent"),
            models.Index(fields=["team", "-id"], name="customer_team_recent"),
            models.Index(fields=["city", "-id"], name="customer_city_recent"),
            models.Index(fields=["kind", "-id"], name="customer_kind_recent"),
            models.Index(fields=["name"], name="customer_name"),
            # The few merged customers, for statements that must leave them out without
            # reading every customer (grading's quantile cut-offs).
            models.Index(
                fields=["id"], name="customer_merged", condition=models.Q(status="merged")
            ),
            # Partial indexes that keep the duplicate checks off the blank values (phone
            # and email are seldom blank: their plain indexes serve those checks).
            *[
                models.Index(
                    fields=[column],
                    name=f"customer_dup_{column}"[:30],
                    condition=~models.Q(**{column: ""}) & ~models.Q(status="merged"),
                )
                for column in (
                    "id_number_index",
                    "credit_code",
                    "name_key",
                )
            ],
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_organisation(self) -> bool:
        return self.kind in ORGANISATION_KINDS


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class ContactQuerySet(ScopedQuerySet["Contact"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class Contact(TimeStampedModel):
    """A person at an organisation customer (or a relative of an individual)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    buying_role = models.CharField(
        _("buying role"), max_length=16, choices=BuyingRole.choices, default=BuyingRole.OTHER
    )
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering: ClassVar[list[str]] = ["-is_primary", "name", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContactMethodKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactMethod(models.Model):
    """One of a contact's phones or emails, encrypted, with its blind index."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="methods")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(_("kind"), max_length=5, choices=ContactMethodKind.choices)
    label = models.CharField(_("label"), max_length=30, blank=True)
    value = EncryptedTextField(_("value"))
    value_index = models.CharField(max_length=32, db_index=True, editable=False)
    last4 = models.CharField(max_length=4, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        ordering: ClassVar[list[str]] = ["kind", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.label}".strip()


class AddressKind(models.TextChoices):
    OFFICE = "office", _("Office")
    HOME = "home", _("Home")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    OTHER = "other", _("Other")


class Address(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=AddressKind.choices, default=AddressKind.OFFICE
    )
    country = models.CharField(_("country"), max_length=2, default="CN")
    region = models.CharField(_("province / region"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    street = EncryptedTextField(_("street address"), blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering: ClassVar[list[str]] = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return " ".join(part for part in (self.region, self.city, self.district) if part)


class CustomerGroup(TimeStampedModel):
    """A user-defined, nestable group (family, key accounts, group customers…)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    path = models.CharField(max_length=512, db_index=True, editable=False, default="")
    description = models.CharField(_("description"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        ordering: ClassVar[list[str]] = ["path"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["parent", "name"], name="group_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["group", "customer"], name="group_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.group_id}"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="secondary")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["tag", "customer"], name="customer_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.tag_id}"


class SearchToken(models.Model):
    """A one- or two-character chunk of a customer's name (CJK characters only).

    Neither pg_trgm nor SQLite's FTS5 trigram tokenizer can answer terms under three
    characters, yet most Chinese names are two or three characters long: these chunks let
    an index lookup answer 1- and 2-character searches on both databases.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=2)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["token", "customer"], name="search_token_lookup"),
        ]

    def __str__(self) -> str:
        return self.token


class CustomFieldTarget(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    CONTACT = "contact", _("Contact")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Whole number")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes / no")


class CustomFieldDefinition(TimeStampedModel):
    """An administrator-defined field; values live in the target's `custom_fields` JSON."""

    target = models.CharField(
        _("applies to"),
        max_length=10,
        choices=CustomFieldTarget.choices,
        default=CustomFieldTarget.CUSTOMER,
    )
    key = models.SlugField(_("key"), max_length=40)
    label_zh = models.CharField(_("Chinese label"), max_length=80)
    label_en = models.CharField(_("English label"), max_length=80)
    field_type = models.CharField(_("type"), max_length=12, choices=CustomFieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    show_in_list = models.BooleanField(_("show in list"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering: ClassVar[list[str]] = ["target", "position", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["target", "key"], name="custom_field_unique_key"),
        ]

    def __str__(self) -> str:
        return self.label_en

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


class ConsentPurpose(models.TextChoices):
    MARKETING_EMAIL = "marketing_email", _("Marketing email")
    SMS = "sms", _("SMS")
    PHONE_CALLS = "phone_calls", _("Phone calls")
    PROCESSING = "processing", _("Processing of personal data")
    SENSITIVE = "sensitive", _("Processing of sensitive personal data")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentRecord(models.Model):
    """An append-only consent event; the newest per customer and purpose is in force."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    channel = models.CharField(_("channel"), max_length=40)
    wording = models.TextField(_("wording shown"))
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering: ClassVar[list[str]] = ["-recorded_at", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"


class SavedFilter(models.Model):
    """A user's named customer-list filter (the query string of the list page)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("query"), max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["name"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


from guanxi.customers.models_imports import *  # noqa: E402,F403
