"""Fill a Guanxi database fast with realistic customers for benchmarks.

    .venv/bin/python bench/generate.py --customers 1000000 [--database-url URL] [--seed S] [--reset]

Writes a sales organisation (teams, ~50 users), tags, groups, then customers with their
search tokens, tags, group memberships, contacts (with phones and emails) and, when the
interactions app is installed, ~5 interactions each. Values are computed with the same
functions the services use (crypto.encrypt with each field's context, blind_index,
name_keys, name_key, search_tokens), checked against `customer_apply` before loading.

Loading goes around the ORM: PostgreSQL COPY (psycopg `write_row`) and SQLite executemany
in large transactions. For a load that at least doubles the tables, plain (non-unique)
indexes are dropped first and rebuilt at the end, and foreign-key checks are off during the
load (the rows are consistent by construction). See docs/benchmarks.md for the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import random
import re
import string
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import setup_django, sqlite_droppable_indexes, sqlite_fast_load
from vocabulary import (
    ADMIN_USERNAME,
    BUYING_ROLES,
    CHANNELS,
    CN_CITIES,
    CN_MAIL_DOMAINS,
    CN_MOBILE_PREFIXES,
    COLUMNS,
    EN_AGENCIES,
    EN_CITIES,
    EN_INVESTOR_SUFFIXES,
    EN_INVESTOR_WORDS,
    EN_MAIL_DOMAINS,
    EN_SUMMARIES,
    EN_TITLES,
    GROUPS,
    KINDS,
    MANAGER_USERNAME,
    OUTCOMES,
    SIZES,
    SOURCES,
    STAGES,
    STATUSES,
    TAGS,
    TEAMS,
    ZH_AGENCIES,
    ZH_COMPANY_SUFFIXES,
    ZH_DISTRICTS,
    ZH_INVESTOR_SUFFIXES,
    ZH_SUMMARIES,
    ZH_TITLES,
    ZH_TRADES,
)

CHUNK = 20_000
START = datetime(2020, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2025, 6, 1, tzinfo=UTC) - START).total_seconds())
NOW_SECONDS = SPAN_SECONDS + 86_400 * 30


def weighted(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    """Values and cumulative weights, for `RowMaker.draw` (rng.choices with cum_weights)."""
    values, cumulative, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cumulative.append(total)
    return values, cumulative


@dataclass(frozen=True)
class Name:
    """A name with everything the services derive from it."""

    text: str
    pinyin: str
    initials: str
    key: str
    tokens: tuple[str, ...]
    mail: str  # an ASCII local part or domain stem for email addresses


@dataclass
class Reference:
    owners: list[tuple[int | None, int | None]]  # (user id, team id)
    owner_weights: list[float]
    tags: list[int]
    tag_weights: list[float]
    groups: list[int]
    industries: list[int]


@dataclass
class Batch:
    """Rows for every table, produced for one chunk of customers."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    plain: list[dict[str, Any]] = field(default_factory=list)  # for the self-check

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)


# --- name pools --------------------------------------------------------------------------------


class Pools:
    """Pre-computed names per language and kind; customers sample from them."""

    def __init__(self, seed: int) -> None:
        from faker import Faker
        from faker.providers.company.zh_CN import Provider as ZhCompany
        from faker.providers.person.en_US import Provider as EnPerson
        from faker.providers.person.zh_CN import Provider as ZhPerson

        self.rng = random.Random(seed)
        rng = self.rng
        self._cache: dict[str, Name] = {}
        zh_fake, en_fake = Faker("zh_CN"), Faker("en_US")
        zh_fake.seed_instance(seed)
        en_fake.seed_instance(seed)

        surnames, surname_weights = weighted(list(ZhPerson.last_names.items()))
        given_singles = list(ZhPerson.first_names)
        characters = sorted({char for given in given_singles for char in given})
        zh_people = []
        for _ in range(20_000):
            surname = rng.choices(surnames, cum_weights=surname_weights)[0]
            roll = rng.random()
            if roll < 0.45:  # Faker's own given names (mostly one character)
                given = rng.choice(given_singles)
            else:  # two characters from the ones Faker uses
                given = rng.choice(characters) + rng.choice(characters)
            zh_people.append(surname + given)
        self.zh_people = [self.name(text) for text in zh_people]

        firsts, first_weights = weighted(list(EnPerson.first_names.items()))
        lasts, last_weights = weighted(list(EnPerson.last_names.items()))
        self.en_people = [
            self.name(
                f"{rng.choices(firsts, cum_weights=first_weights)[0]} "
                f"{rng.choices(lasts, cum_weights=last_weights)[0]}"
            )
            for _ in range(30_000)
        ]

        suffixes, suffix_weights = weighted(ZH_COMPANY_SUFFIXES)
        prefixes = list(ZhCompany.company_prefixes)
        cities = [city[2] for city in CN_CITIES]
        zh_companies = {
            (rng.choice(cities) if rng.random() < 0.6 else "")
            + rng.choice(prefixes)
            + rng.choice(ZH_TRADES)
            + rng.choices(suffixes, cum_weights=suffix_weights)[0]
            for _ in range(8_000)
        }
        self.zh_companies = [self.name(text) for text in sorted(zh_companies)]
        self.en_companies = [self.name(en_fake.company()) for _ in range(6_000)]
        self.zh_agencies = [
            self.name(f"{city[1]}{district}{agency}")
            for city in CN_CITIES
            for district in ZH_DISTRICTS
            for agency in ZH_AGENCIES
        ]
        self.en_agencies = [
            self.name(f"City of {city[1]} {agency}") for city in EN_CITIES for agency in EN_AGENCIES
        ] + [self.name(f"{city[0]} {agency}") for city in EN_CITIES[::2] for agency in EN_AGENCIES]
        self.zh_investors = [
            self.name(rng.choice(cities) + rng.choice(prefixes) + suffix)
            for suffix in ZH_INVESTOR_SUFFIXES
            for _ in range(150)
        ]
        self.en_investors = [
            self.name(
                f"{en_fake.last_name()} {rng.choice(EN_INVESTOR_WORDS)} "
                f"{rng.choice(EN_INVESTOR_SUFFIXES)}"
            )
            for _ in range(1_500)
        ]
        self.zh_jobs = [zh_fake.job() for _ in range(500)]
        self.en_jobs = [en_fake.job() for _ in range(500)]

    def name(self, text: str) -> Name:
        from guanxi.customers.normalise import name_key, name_keys, search_tokens

        found = self._cache.get(text)
        if found is None:
            pinyin, initials = name_keys(text)
            letters = "".join(char for char in (pinyin or text.lower()) if char in ASCII)
            found = Name(
                text=text,
                pinyin=pinyin,
                initials=initials,
                key=name_key(text),
                tokens=tuple(sorted(search_tokens(text))),
                mail=letters[:20] or "kehu",
            )
            self._cache[text] = found
        return found

    def by_kind(self, kind: str, chinese: bool) -> list[Name]:
        if kind == "person":
            return self.zh_people if chinese else self.en_people
        if kind == "enterprise":
            return self.zh_companies if chinese else self.en_companies
        if kind == "government":
            return self.zh_agencies if chinese else self.en_agencies
        return self.zh_investors if chinese else self.en_investors


ASCII = frozenset(string.ascii_lowercase + string.digits)


# --- reference data ----------------------------------------------------------------------------


def ensure_reference(rng: random.Random) -> Reference:
    """Teams, users, tags and groups the customers point at; reused when present."""
    from django.contrib.auth.hashers import make_password

    from guanxi.accounts.models import Role, Team, User
    from guanxi.accounts.services import builtin_roles_ensure, team_create
    from guanxi.customers.models import CustomerGroup, Industry, Tag
    from guanxi.customers.services import group_create

    builtin_roles_ensure()
    roles = {role.code: role for role in Role.objects.all()}
    teams: dict[str, Team] = {}
    for name, parent_name, _reps in TEAMS:
        parent = teams[parent_name] if parent_name else None
        team = Team.objects.filter(parent=parent, name=name).first()
        teams[name] = team or team_create(actor=None, name=name, parent=parent)

    wanted: list[User] = [
        User(
            username=ADMIN_USERNAME,
            display_name="Bench Admin",
            is_superuser=True,
            is_staff=True,
            role=roles["administrator"],
            team=teams[TEAMS[0][0]],
        ),
        User(
            username=MANAGER_USERNAME,
            display_name="华东经理 East Manager",
            role=roles["sales-manager"],
            team=teams["华东区 East"],
        ),
        User(
            username="bench.manager.sales",
            display_name="销售总监 Sales Director",
            role=roles["sales-manager"],
            team=teams["销售部 Sales"],
        ),
    ]
    for name, _parent, reps in TEAMS:
        for number in range(1, reps + 1):
            slug = name.split()[-1].lower().replace(".", "")
            wanted.append(
                User(
                    username=f"bench.rep.{slug}.{number}",
                    display_name=f"{name.split()[0]} 销售{number}",
                    role=roles["sales-rep"],
                    team=teams[name],
                )
            )
    existing = set(
        User.objects.filter(username__startswith="bench.").values_list("username", flat=True)
    )
    missing = [user for user in wanted if user.username not in existing]
    for user in missing:
        user.password = make_password(None)  # no sign-in; the bench uses force_login
    User.objects.bulk_create(missing)

    reps = list(User.objects.filter(username__startswith="bench.rep.").values_list("pk", "team_id"))
    owners: list[tuple[int | None, int | None]] = [*reps, (None, None)]
    weights = [rng.lognormvariate(0, 0.6) for _ in reps] + [0.02 * len(reps)]

    admin = User.objects.get(username=ADMIN_USERNAME)
    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    tag_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(tags))]
    groups = []
    for parent_name, children in GROUPS.items():
        parent = CustomerGroup.objects.filter(parent=None, name=parent_name).first()
        parent = parent or group_create(actor=admin, name=parent_name)
        for child_name in children:
            child = CustomerGroup.objects.filter(parent=parent, name=child_name).first()
            groups.append((child or group_create(actor=admin, name=child_name, parent=parent)).pk)
    industries = list(Industry.objects.values_list("pk", flat=True))
    return Reference(owners, weights, tags, tag_weights, groups, industries)


# --- rows --------------------------------------------------------------------------------------


class RowMaker:
    """Makes the rows of every generated table for a range of customer ids."""

    def __init__(self, pools: Pools, reference: Reference, seed: int, sqlite: bool) -> None:
        import phonenumbers
        from stdnum.cn import ric, uscc

        from guanxi.core import crypto
        from guanxi.customers.models import ContactMethod, Customer

        self.pools, self.ref, self.sqlite = pools, reference, sqlite
        self.rng = random.Random(seed + 1)
        self.crypto, self.ric, self.uscc = crypto, ric, uscc
        self.PhoneNumber = phonenumbers.PhoneNumber
        self.is_valid_for_region = phonenumbers.is_valid_number_for_region
        self.id_years: dict[tuple[str, int], bool] = {}
        self.contexts = {
            name: Customer._meta.get_field(name).context  # type: ignore[attr-defined]
            for name in ("phone", "email", "id_number", "bank_account")
        }
        self.contexts["method"] = ContactMethod._meta.get_field("value").context  # type: ignore[attr-defined]
        self.kinds = weighted(KINDS)
        self.sources = weighted(SOURCES)
        self.statuses = weighted(STATUSES)
        self.stages = weighted(STAGES)
        self.sizes = weighted(SIZES)
        self.roles = weighted(BUYING_ROLES)
        self.channels = weighted(CHANNELS)
        self.cn_cities = weighted([(city, city[5]) for city in CN_CITIES])
        self.en_cities = weighted([(city, city[6]) for city in EN_CITIES])
        self.cn_domains = weighted(CN_MAIL_DOMAINS)
        self.en_domains = weighted(EN_MAIL_DOMAINS)
        self.owners = weighted(list(zip(reference.owners, reference.owner_weights, strict=True)))
        self.tags = weighted(list(zip(reference.tags, reference.tag_weights, strict=True)))
        self.next_ids: dict[str, int] = {}
        self.first_customer = 1
        # Timestamps from lookup tables: str(datetime) costs ~10 µs, millions of times.
        days = (NOW_SECONDS // 86_400) + 60
        self.days = [f"{START.date() + timedelta(days=day)} " for day in range(days)]
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
        self.zone = "" if sqlite else "+00:00"
        self.with_interactions = False

    # -- values ------------------------------------------------------------------------------

    def ts(self, seconds: float) -> str:
        """A UTC timestamp as each database stores it (SQLite: naive UTC text)."""
        day, second = divmod(int(seconds), 86_400)
        return self.days[day] + self.times[second] + self.zone

    def draw(self, table: tuple[list[Any], list[float]], k: int = 1) -> list[Any]:
        """`k` values drawn from a `weighted()` table."""
        values, cumulative = table
        return self.rng.choices(values, cum_weights=cumulative, k=k)

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def valid(self, code: int, region: str, digits: Callable[[], str]) -> str:
        """E.164 of the first candidate phonenumbers accepts (a few tries at most).

        Checked for the known region: the same answer as `is_valid_number`, which would
        first search the regions sharing the calling code (slow for +1).
        """
        for _attempt in range(50):
            national = int(digits())
            number = self.PhoneNumber(country_code=code, national_number=national)
            if self.is_valid_for_region(number, region):
                return f"+{code}{national}"
        raise RuntimeError(f"no valid +{code} number from {digits()!r}-shaped candidates")

    def cn_mobile(self) -> str:
        rng = self.rng
        return self.valid(
            86, "CN", lambda: rng.choice(CN_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        )

    def cn_landline(self, area: str) -> str:
        rng = self.rng

        def digits() -> str:
            # Most cities have 8-digit subscriber numbers, a few (Xiamen) 7.
            rest = rng.choice((7, 7, 7, 6))
            return f"{area}{rng.randint(2, 8)}{rng.randrange(10**rest):0{rest}d}"

        return self.valid(86, "CN", digits)

    def en_phone(self, city: tuple[Any, ...]) -> str:
        rng = self.rng
        _region, _city, code, region, prefixes, digits, _weight = city
        return self.valid(
            code, region, lambda: rng.choice(prefixes) + f"{rng.randrange(10**digits):0{digits}d}"
        )

    def email(self, name: Name, chinese: bool, person: bool) -> str:
        rng = self.rng
        if not person:
            stem = name.initials or name.mail
            return f"{rng.choice(('info', 'contact', 'sales', 'office'))}@{stem[:16]}.com"
        if chinese:
            domain = self.draw(self.cn_domains)[0]
            if domain == "qq.com":
                return f"{rng.randint(10_000, 3_999_999_999)}@qq.com"
            return f"{name.mail}{rng.randint(1, 9999)}@{domain}"
        first, _, last = name.text.lower().partition(" ")
        local = (
            "".join(c for c in first if c in ASCII) + "." + "".join(c for c in last if c in ASCII)
        )
        return f"{local}{rng.randint(1, 999)}@{self.draw(self.en_domains)[0]}"

    def id_number(self, region_code: str) -> tuple[str, date]:
        """A resident ID that stdnum accepts (region codes are valid for some years only)."""
        rng = self.rng
        for _attempt in range(50):
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            body = f"{region_code}{born:%Y%m%d}{rng.randrange(1000):03d}"
            number = body + self.ric.calc_check_digit(body + "0")
            known = self.id_years.get((region_code, born.year))
            if known is None:  # the place lookup is slow: once per region and year
                known = self.id_years[region_code, born.year] = self.ric.is_valid(number)
            if known:
                return number, born
        raise RuntimeError(f"no valid resident ID for region {region_code}")

    def credit_code(self, region_code: str) -> str:
        rng = self.rng
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        body = "91" + region_code + "".join(rng.choice(alphabet) for _ in range(9))
        return body + self.uscc.calc_check_digit(body)

    def sealed(self, value: str, context: str) -> str:
        return self.crypto.encrypt(value, context=self.contexts[context]) if value else ""

    def index(self, value: str, kind: str) -> str:
        return self.crypto.blind_index(value, kind=kind) if value else ""

    # -- one chunk ---------------------------------------------------------------------------

    def chunk(self, first_id: int, count: int, total: int, keep_plain: int = 0) -> Batch:
        rng, pools, batch = self.rng, self.pools, Batch()
        # Draw the per-customer choices a chunk at a time (one call each, not one per row).
        kinds = self.draw(self.kinds, count)
        owners = self.draw(self.owners, count)
        sources = self.draw(self.sources, count)
        statuses = self.draw(self.statuses, count)
        stages = self.draw(self.stages, count)
        cn_cities = self.draw(self.cn_cities, count)
        en_cities = self.draw(self.en_cities, count)
        for offset in range(count):
            pk = first_id + offset
            kind = kinds[offset]
            person = kind == "person"
            chinese = rng.random() < 0.4
            name = rng.choice(pools.by_kind(kind, chinese))
            owner_id, team_id = owners[offset]
            created = SPAN_SECONDS * (pk - self.first_customer) / total + rng.random() * 600
            updated = created + rng.random() * (NOW_SECONDS - created) * rng.random()
            if chinese:
                city = cn_cities[offset]
                region, city_name, area, region_code = city[0], city[1], city[3], city[4]
                phone = self.cn_mobile() if person or rng.random() < 0.5 else self.cn_landline(area)
            else:
                city = en_cities[offset]
                region, city_name, region_code = city[0], city[1], ""
                phone = self.en_phone(city)
            if rng.random() < 0.08:
                phone = ""
            email = self.email(name, chinese, person) if rng.random() < 0.7 else ""
            id_number, birthday, bank = "", None, ""
            gender = occupation = legal_name = credit_code = size_band = website = ""
            industry_id = None
            if person:
                gender = rng.choice(("male", "female", "male", "female", ""))
                if chinese and rng.random() < 0.35:
                    id_number, birthday = self.id_number(region_code)
                elif rng.random() < 0.4:
                    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
                if rng.random() < 0.1:
                    bank = "62" + "".join(rng.choices(string.digits, k=rng.choice((14, 17))))
                if rng.random() < 0.5:
                    occupation = rng.choice(pools.zh_jobs if chinese else pools.en_jobs)[:100]
            else:
                legal_name = name.text
                if chinese and rng.random() < 0.85:
                    credit_code = self.credit_code(region_code)
                industry_id = rng.choice(self.ref.industries) if kind == "enterprise" else None
                size_band = self.draw(self.sizes)[0]
                if rng.random() < 0.6:
                    website = f"https://www.{(name.initials or name.mail)[:16]}.com"
            phone_index = self.index(phone, "phone")
            batch.add(
                "customer",
                (
                    pk,
                    self.ts(created),
                    self.ts(updated),
                    1,
                    f"C{pk:08d}",
                    kind,
                    name.text,
                    name.pinyin,
                    name.initials,
                    name.key,
                    sources[offset],
                    statuses[offset],
                    stages[offset],
                    owner_id,
                    team_id,
                    "",
                    self.sealed(phone, "phone"),
                    phone_index,
                    phone[-4:],
                    self.sealed(email, "email"),
                    self.index(email, "email"),
                    region,
                    city_name,
                    gender,
                    birthday.isoformat() if birthday else None,
                    self.sealed(id_number, "id_number"),
                    self.index(id_number, "id_number"),
                    occupation,
                    self.sealed(bank, "bank_account"),
                    legal_name,
                    credit_code,
                    industry_id,
                    size_band,
                    website,
                    "{}",
                    None,
                ),
            )
            if len(batch.plain) < keep_plain:
                batch.plain.append(
                    {
                        "pk": pk,
                        "kind": kind,
                        "name": name.text,
                        "phone": phone,
                        "email": email,
                        "id_number": id_number,
                        "credit_code": credit_code,
                        "bank_account": bank,
                    }
                )
            for token in name.tokens:
                batch.add("searchtoken", (self.new_id("searchtoken"), pk, token))
            self.labels(batch, pk, created)
            contacts = [] if person else self.contacts(batch, pk, chinese, created, city_name)
            if self.with_interactions:
                self.interactions(batch, pk, chinese, created, owner_id, team_id, contacts)
        return batch

    def labels(self, batch: Batch, pk: int, created: float) -> None:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), weights=(30, 35, 22, 13))[0]
        added = self.ts(created + 3600)
        for tag in set(self.draw(self.tags, count)):
            batch.add("customertag", (self.new_id("customertag"), added, pk, tag))
        roll = rng.random()
        if roll < 0.12:
            for group in rng.sample(self.ref.groups, 2 if roll < 0.02 else 1):
                batch.add("groupmembership", (self.new_id("groupmembership"), added, pk, group))

    def contacts(
        self, batch: Batch, pk: int, chinese: bool, created: float, city: str
    ) -> list[int]:
        rng, pools = self.rng, self.pools
        people = pools.zh_people if chinese else pools.en_people
        made = []
        for number in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
            contact_id = self.new_id("contact")
            person = rng.choice(people)
            stamp = self.ts(created + 60 * number)
            batch.add(
                "contact",
                (
                    contact_id,
                    stamp,
                    stamp,
                    1,
                    pk,
                    person.text,
                    rng.choice(ZH_TITLES if chinese else EN_TITLES),
                    self.draw(self.roles)[0],
                    f"wxid_{rng.randrange(36**10):x}" if chinese and rng.random() < 0.4 else "",
                    number == 0,
                    "",
                    "{}",
                ),
            )
            made.append(contact_id)
            methods = rng.choices(("phone", "email", "both"), weights=(42, 18, 40))[0]
            if methods in ("phone", "both"):
                phone = self.cn_mobile() if chinese else self.en_phone(self.en_city(city))
                batch.add(
                    "contactmethod",
                    (
                        self.new_id("contactmethod"),
                        "phone",
                        "",
                        self.sealed(phone, "method"),
                        self.index(phone, "phone"),
                        phone[-4:],
                        contact_id,
                        pk,
                    ),
                )
            if methods in ("email", "both"):
                address = self.email(person, chinese, True)
                batch.add(
                    "contactmethod",
                    (
                        self.new_id("contactmethod"),
                        "email",
                        "",
                        self.sealed(address, "method"),
                        self.index(address, "email"),
                        "",
                        contact_id,
                        pk,
                    ),
                )
        return made

    def en_city(self, name: str) -> tuple[Any, ...]:
        return next((city for city in EN_CITIES if city[1] == name), EN_CITIES[0])

    def interactions(
        self,
        batch: Batch,
        pk: int,
        chinese: bool,
        created: float,
        owner_id: int | None,
        team_id: int | None,
        contacts: list[int],
    ) -> None:
        rng = self.rng
        count = min(int(rng.expovariate(1 / 5.5)), 80)
        if not count:
            return
        summaries = ZH_SUMMARIES if chinese else EN_SUMMARIES
        channels = self.draw(self.channels, count)
        for channel in channels:
            occurred = created + rng.random() * (NOW_SECONDS - created)
            if channel in ("phone_call", "email", "wechat", "sms", "whatsapp", "chat"):
                direction = "outbound" if rng.random() < 0.6 else "inbound"
            elif channel in ("visit", "meeting"):
                direction = "outbound"
            else:
                direction = "none"
            duration = None
            if channel == "phone_call":
                duration = rng.randint(20, 1800)
            elif channel == "meeting":
                duration = rng.randint(900, 7200)
            stamp = self.ts(occurred + 120)
            has_next = rng.random() < 0.2
            batch.add(
                "interaction",
                (
                    self.new_id("interaction"),
                    stamp,
                    stamp,
                    1,
                    channel,
                    direction,
                    self.ts(occurred),
                    duration,
                    rng.choice(summaries),
                    "",
                    rng.choice(OUTCOMES),
                    ("约下次拜访" if chinese else "Schedule a visit") if has_next else "",
                    (START + timedelta(seconds=occurred + 7 * 86_400)).date().isoformat()
                    if has_next
                    else None,
                    "",
                    None,
                    None,
                    rng.choice(contacts) if contacts and rng.random() < 0.5 else None,
                    pk,
                    owner_id,
                    team_id,
                ),
            )


def table_models() -> dict[str, Any]:
    """Table key -> model; interactions only when that app and model exist."""
    from django.apps import apps

    from guanxi.customers import models as m

    found: dict[str, Any] = {
        "customer": m.Customer,
        "searchtoken": m.SearchToken,
        "customertag": m.CustomerTag,
        "groupmembership": m.GroupMembership,
        "contact": m.Contact,
        "contactmethod": m.ContactMethod,
    }
    if apps.is_installed("guanxi.interactions"):
        with contextlib.suppress(LookupError):
            found["interaction"] = apps.get_model("interactions", "Interaction")
    for key, model in found.items():
        columns = {f.column for f in model._meta.concrete_fields}
        if columns != set(COLUMNS[key]):
            raise SystemExit(
                f"bench/generate.py: {model._meta.db_table} has columns {sorted(columns)}, the "
                f"generator writes {sorted(COLUMNS[key])}: update COLUMNS and RowMaker"
            )
    return found


# --- self-check --------------------------------------------------------------------------------


def self_check(maker: RowMaker, batch: Batch) -> int:
    """Compare generated rows with what `customer_apply` (the services' validation) makes."""
    from guanxi.core import crypto
    from guanxi.customers.models import Customer, SearchToken
    from guanxi.customers.normalise import search_tokens
    from guanxi.customers.services import customer_apply

    by_pk = {
        row[0]: dict(zip(COLUMNS["customer"], row, strict=True)) for row in batch.rows["customer"]
    }
    tokens: dict[int, list[str]] = {}
    for _pk, customer_id, token in batch.rows.get("searchtoken", []):
        tokens.setdefault(customer_id, []).append(token)
    checked = 0
    for plain in batch.plain:
        row = by_pk[plain["pk"]]
        values = {key: plain[key] for key in ("kind", "name", "phone", "email", "id_number")}
        values["credit_code"] = plain["credit_code"]
        expected = customer_apply(Customer(), values, definitions=[])
        for column in (
            "name_pinyin",
            "name_initials",
            "name_key",
            "phone_index",
            "phone_last4",
            "email_index",
            "id_number_index",
            "credit_code",
        ):
            assert row[column] == getattr(expected, column), (column, row[column], plain)
        for column in ("phone", "email", "id_number", "bank_account"):
            context = Customer._meta.get_field(column).context  # type: ignore[attr-defined]
            stored = crypto.decrypt(row[column], context=context) if row[column] else ""
            want = plain[column] if column == "bank_account" else getattr(expected, column)
            assert stored == want, (column, stored, want)
        assert sorted(tokens.get(plain["pk"], [])) == sorted(search_tokens(plain["name"]))
        checked += 1
    assert SearchToken._meta.get_field("token").max_length == 2
    return checked


# --- sinks -------------------------------------------------------------------------------------


class Sink:
    """Writes rows into the real tables of one database."""

    def __init__(self, models: dict[str, Any]) -> None:
        from django.db import connection

        self.connection = connection
        self.models = models
        self.tables = {key: model._meta.db_table for key, model in models.items()}
        self.dropped: list[tuple[str, str]] = []  # (index name, its CREATE statement)

    def quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def max_ids(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            found = {}
            for key, table in self.tables.items():
                cursor.execute(f"SELECT MAX(id) FROM {self.quote(table)}")
                found[key] = cursor.fetchone()[0] or 0
            return found

    def reset(self) -> None:
        raise NotImplementedError

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def pending_file(self) -> Path:
        """Where the dropped indexes are remembered until rebuilt (survives a killed run)."""
        from django.conf import settings

        name = re.sub(r"[^A-Za-z0-9]+", "-", str(self.connection.settings_dict["NAME"]))
        return Path(settings.VAR_DIR) / f"bench-dropped-indexes-{name.strip('-')}.json"

    def drop_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            for table in self.tables.values():
                for name, sql in self.droppable_indexes(table):
                    self.dropped.append((name, sql))
                    self.pending_file().write_text(json.dumps(self.dropped, ensure_ascii=False))
                    cursor.execute(f"DROP INDEX {self.quote(name)}")

    def restore_pending(self) -> None:
        """Rebuild the indexes an earlier, interrupted run dropped."""
        path = self.pending_file()
        if path.exists():
            self.dropped = [tuple(entry) for entry in json.loads(path.read_text())]
            existing = self.index_names()
            self.dropped = [(name, sql) for name, sql in self.dropped if name not in existing]
            self.create_indexes(log)

    def index_names(self) -> set[str]:
        raise NotImplementedError

    def create_indexes(self, progress: Callable[[str], None]) -> None:
        with self.connection.cursor() as cursor:
            while self.dropped:
                name, sql = self.dropped[0]
                started = time.perf_counter()
                cursor.execute(sql)
                self.dropped.pop(0)
                progress(f"index {name}: {time.perf_counter() - started:.1f}s")
        self.pending_file().unlink(missing_ok=True)

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def begin(self) -> None:
        self.connection.set_autocommit(False)

    def commit(self) -> None:
        self.connection.commit()
        self.connection.set_autocommit(True)

    def cascaded(self) -> list[Any]:
        """Other tables whose rows hang off customers (addresses, consents, …)."""
        from guanxi.customers.models import Customer

        loaded = set(self.tables.values())
        found, queue = [], [Customer]
        while queue:
            model = queue.pop()
            for relation in model._meta.related_objects:
                related = relation.related_model
                table = related._meta.db_table
                if relation.on_delete.__name__ == "CASCADE" and table not in loaded:
                    loaded.add(table)
                    found.append(related)
                    queue.append(related)
        return found

    def prepare(self) -> None:
        """Session settings for the load."""

    def finish(self, analyze: bool) -> None:
        """Restore the session and refresh planner statistics."""


class PostgresSink(Sink):
    def index_names(self) -> set[str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            return {row[0] for row in cursor.fetchall()}

    def reset(self) -> None:
        with self.connection.cursor() as cursor:
            # The tables that hang off customers too: some keys have no database-level
            # constraint for CASCADE to follow (grading's history rows and notifications).
            tables = ", ".join(
                self.quote(table)
                for table in [
                    *self.tables.values(),
                    *(model._meta.db_table for model in self.cascaded()),
                ]
            )
            cursor.execute(f"TRUNCATE {tables} CASCADE")

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                ORDER BY c.relname
                """,
                [table],
            )
            return list(cursor.fetchall())

    def prepare(self) -> None:
        from django.db import DatabaseError

        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            # Foreign keys are triggers; the rows reference ids written in the same run or
            # read from the database, so the per-row checks are skipped (superuser only).
            with contextlib.suppress(DatabaseError):  # not a superuser: keep the checks
                cursor.execute("SET session_replication_role = replica")

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        columns = ", ".join(self.quote(column) for column in COLUMNS[key])
        with (
            self.connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {self.quote(self.tables[key])} ({columns}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish(self, analyze: bool) -> None:
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            for sql in self.connection.ops.sequence_reset_sql(no_style(), self.models.values()):
                cursor.execute(sql)
            if analyze:
                for table in self.tables.values():
                    cursor.execute(f"VACUUM (ANALYZE) {self.quote(table)}")


def name_fts_migration() -> Any:
    """The customers migration that defines SQLite's name trigram index and its triggers."""
    return importlib.import_module("guanxi.customers.migrations.0008_sqlite_name_trigram_fts")


class SqliteSink(Sink):
    def index_names(self) -> set[str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            return {row[0] for row in cursor.fetchall()}

    def reset(self) -> None:
        with self.connection.cursor() as cursor:
            for table in reversed(list(self.tables.values())):
                cursor.execute(f"DELETE FROM {self.quote(table)}")
            for model in self.cascaded():
                cursor.execute(f"DELETE FROM {self.quote(model._meta.db_table)}")

    def droppable_indexes(self, table: str) -> list[tuple[str, str]]:
        return sqlite_droppable_indexes(self.connection, table)

    def prepare(self) -> None:
        with self.connection.cursor() as cursor:
            sqlite_fast_load(cursor)
            # The name trigram index (migration 0008) is kept by triggers, a few µs a row;
            # off for the load, rebuilt in one pass by finish().
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{name_fts_migration().TABLE}%"],
            )
            self.fts_triggers = [row[0] for row in cursor.fetchall()]
            for trigger in self.fts_triggers:
                cursor.execute(f"DROP TRIGGER {trigger}")

    def write(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        columns = COLUMNS[key]
        marks = ", ".join("?" * len(columns))
        names = ", ".join(self.quote(column) for column in columns)
        sql = f"INSERT INTO {self.quote(self.tables[key])} ({names}) VALUES ({marks})"
        self.connection.connection.executemany(sql, rows)

    def finish(self, analyze: bool) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s",
                [name_fts_migration().TABLE],
            )
            if cursor.fetchone() is not None:  # also after a run that died before this point
                for statement in name_fts_migration().CREATE:  # triggers, then 'rebuild'
                    cursor.execute(statement)
            if analyze:
                cursor.execute("ANALYZE")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")


# --- main --------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    started = time.perf_counter()
    models = table_models()
    sink: Sink = PostgresSink(models) if connection.vendor == "postgresql" else SqliteSink(models)
    # A bulk load writes facts faster without the grading capture triggers; the next metrics
    # refresh puts them back and recomputes every customer.
    from guanxi.grading import capture

    capture.suspend()
    sink.prepare()
    sink.restore_pending()
    if args.reset:
        sink.reset()
        log("reset: generated tables emptied")
    rng = random.Random(args.seed)
    reference = ensure_reference(rng)
    pools = Pools(args.seed)
    log(f"pools and reference data ready: {time.perf_counter() - started:.1f}s")

    maker = RowMaker(pools, reference, args.seed, sqlite=connection.vendor == "sqlite")
    maker.with_interactions = "interaction" in models
    start_ids = sink.max_ids()
    maker.next_ids = {key: value + 1 for key, value in start_ids.items()}
    first = maker.next_ids["customer"]
    maker.first_customer = first
    existing = first - 1
    drop = not args.keep_indexes and args.customers >= existing
    if drop:
        sink.drop_indexes()
        log(f"dropped {len(sink.dropped)} plain indexes; rebuilt after the load")
    counts: dict[str, int] = dict.fromkeys(models, 0)
    load_started = time.perf_counter()
    try:
        done = 0
        while done < args.customers:
            count = min(args.chunk, args.customers - done)
            batch = maker.chunk(first + done, count, args.customers, keep_plain=300 * (done == 0))
            if done == 0:
                log(f"self-check: {self_check(maker, batch)} customers match customer_apply")
            sink.begin()
            for key in models:
                rows = batch.rows.get(key, [])
                if rows:
                    sink.write(key, rows)
                    counts[key] += len(rows)
            sink.commit()
            done += count
            elapsed = time.perf_counter() - load_started
            log(
                f"{done:>9,} customers  {sum(counts.values()):>11,} rows  {elapsed:7.1f}s  "
                f"{sum(counts.values()) / elapsed:,.0f} rows/s"
            )
    finally:
        if sink.dropped:
            index_started = time.perf_counter()
            sink.create_indexes(log)
            log(f"indexes rebuilt: {time.perf_counter() - index_started:.1f}s")
    load_seconds = time.perf_counter() - load_started
    finish_started = time.perf_counter()
    sink.finish(analyze=not args.no_analyze)
    log(f"sequences and statistics: {time.perf_counter() - finish_started:.1f}s")
    seconds = time.perf_counter() - started
    rows = sum(counts.values())
    return {
        "vendor": connection.vendor,
        "customers": counts["customer"],
        "contacts": counts["contact"],
        "interactions": counts.get("interaction", 0),
        "rows": rows,
        "tables": counts,
        "indexes_dropped": drop,
        "load_seconds": round(load_seconds, 1),
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
    }


def parse(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True, help="how many to add")
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else var/guanxi.sqlite3")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--reset", action="store_true", help="empty the generated tables first")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="customers per transaction")
    parser.add_argument(
        "--keep-indexes", action="store_true", help="never drop and rebuild plain indexes"
    )
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE at the end")
    return parser.parse_args(list(argv) if argv is not None else None)


def main() -> None:
    args = parse()
    setup_django(args.database_url)
    print(json.dumps(generate(args)), flush=True)


if __name__ == "__main__":
    main()
