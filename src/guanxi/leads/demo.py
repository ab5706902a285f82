"""Demo leads: scoring and assignment rules, a web-to-lead form, open leads with behaviour,
two years of closed leads (so that the lead model can be trained), and a public pool with
its rules and a few unowned customers."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import Team, User
from guanxi.core.crypto import blind_index
from guanxi.customers.models import Customer, CustomerStatus
from guanxi.customers.services import customer_assign
from guanxi.leads import learning, scoring
from guanxi.leads.models import (
    AssignmentMethod,
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadForm,
    LeadSource,
    LeadStatus,
    PoolPolicy,
    PoolRule,
)
from guanxi.leads.services import lead_create, lead_record_event

SEED = 20241111
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "杰", "婷", "军"]
COMPANIES = ["星河科技", "远航物流", "青松医疗", "金桥贸易", "海川制造", "云杉软件", "华锦纺织"]
TITLES = ["总经理", "采购经理", "IT Director", "财务主管", "工程师", "Operations Manager", ""]
REGIONS = ["上海", "北京", "广东", "浙江", "江苏"]
SIZES = ["micro", "small", "medium", "large", "huge"]
SOURCES = [LeadSource.WEB_FORM, LeadSource.MANUAL, LeadSource.REFERRAL, LeadSource.EVENT]
BEHAVIOURS = [
    LeadEventKind.OPENED_EMAIL,
    LeadEventKind.VISITED,
    LeadEventKind.REPLIED,
    LeadEventKind.CALLED,
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _users() -> dict[str, User]:
    return {
        user.username: user
        for user in User.objects.filter(username__in=["manager", "rep.east", "rep.north"])
    }


def _rules(users: dict[str, User]) -> None:
    scoring.scoring_rules_seed()
    scoring.lead_settings()
    east = users["rep.east"].team
    north = users["rep.north"].team
    if north is not None:
        rule = AssignmentRule.objects.create(
            name="北京 Beijing", team=north, method=AssignmentMethod.REGION, region="北京"
        )
        rule.members.set([users["rep.north"]])
    if east is not None:
        rule = AssignmentRule.objects.create(
            name="轮询 Round robin", team=east, method=AssignmentMethod.ROUND_ROBIN, position=1
        )
        rule.members.set([users["rep.east"]])
    PoolPolicy.objects.get_or_create(
        team=None,
        defaults={"daily_claim_quota": 10, "max_held": 300, "cooling_off_days": 30},
    )
    PoolRule.objects.get_or_create(
        team=None, tier=None, defaults={"no_follow_up_days": 30, "no_deal_days": 180}
    )


def _form(team: Team | None, creator: User) -> LeadForm:
    form, _created = LeadForm.objects.get_or_create(
        slug="contact-us",
        defaults={
            "name": "官网咨询 Website enquiry",
            "heading": "联系我们 Talk to our sales team",
            "intro": "留下联系方式，我们会在一个工作日内回复。 Leave your details and we reply "
            "within one working day.",
            "fields": ["name", "company", "title", "phone", "email", "region", "message"],
            "required_fields": ["name", "phone"],
            "consent_wording": "我同意关系示范公司就本次咨询与我联系。 "
            "I agree that Guanxi Demo Co. may contact me about this enquiry.",
            "consent_purpose": "processing",
            "thank_you": "谢谢！我们会尽快联系您。 Thank you, we will be in touch soon.",
            "team": team,
            "created_by": creator,
        },
    )
    return form


def _open_leads(rng: random.Random, manager: User, form: LeadForm) -> int:
    count = 0
    for index in range(24):
        values = {
            "name": _name(rng),
            "company": rng.choice(COMPANIES) + ("有限公司" if index % 3 else ""),
            "title": rng.choice(TITLES),
            "phone": f"139{rng.randrange(10**7, 10**8)}",
            "email": f"lead{index}@example.cn",
            "region": rng.choice(REGIONS),
            "size_band": rng.choice(SIZES),
            "source": rng.choice(SOURCES),
        }
        lead = lead_create(actor=manager, values=values, auto_assign=index % 5 != 0)
        for _ in range(rng.randrange(0, 4)):
            lead_record_event(
                actor=None,
                lead=lead,
                kind=rng.choice(BEHAVIOURS),
                occurred_at=timezone.now() - dt.timedelta(days=rng.randrange(0, 60)),
            )
        count += 1
    if form.pk:
        Lead.objects.filter(source=LeadSource.WEB_FORM, form__isnull=True).update(form=form)
    return count


def _closed_leads(rng: random.Random, users: dict[str, User]) -> int:
    """Two years of converted and disqualified leads, in bulk, for the lead model."""
    owners = [users["rep.east"], users["rep.north"]]
    now = timezone.now()
    leads = []
    engagement = []
    for _index in range(140):
        size = rng.choice(SIZES)
        source = rng.choice(SOURCES)
        engaged = rng.random()
        likely = (
            (SIZES.index(size) / 4) * 0.5
            + engaged * 0.5
            + (0.15 if source == LeadSource.REFERRAL else 0)
        )
        converted = rng.random() < likely
        owner = rng.choice(owners)
        phone = f"+86137{rng.randrange(10**7, 10**8)}"
        leads.append(
            Lead(
                name=_name(rng),
                company=rng.choice(COMPANIES),
                title=rng.choice(TITLES),
                phone=phone,
                phone_index=blind_index(phone, kind="phone"),
                region=rng.choice(REGIONS),
                size_band=size,
                source=source,
                owner=owner,
                team=owner.team,
                status=LeadStatus.CONVERTED if converted else LeadStatus.DISQUALIFIED,
                disqualified_reason="" if converted else "无预算 No budget",
                converted_at=now - dt.timedelta(days=rng.randrange(30, 700)) if converted else None,
            )
        )
        engagement.append(engaged)
    Lead.objects.bulk_create(leads, batch_size=500)
    events = [
        LeadEvent(
            lead=lead,
            kind=rng.choice(BEHAVIOURS),
            occurred_at=now - dt.timedelta(days=rng.randrange(30, 700)),
        )
        for lead, engaged in zip(leads, engagement, strict=True)
        for _ in range(int(engaged * 5))
    ]
    LeadEvent.objects.bulk_create(events, batch_size=1000)
    return len(leads)


def _pool_customers() -> int:
    ids = list(
        Customer.objects.filter(status=CustomerStatus.ACTIVE, owner__isnull=False)
        .order_by("-pk")
        .values_list("pk", flat=True)[:6]
    )
    return customer_assign(
        actor=None, customers=Customer.objects.filter(pk__in=ids), owner=None, reason="pool"
    )


def load(*, force: bool = False) -> list[str]:
    """Add the demo rules, form, leads and pool; skipped when leads exist (unless forced)
    or when the demo users are missing. Idempotent."""
    if Lead.objects.exists() and not force:
        return ["Demo leads: already loaded."]
    users = _users()
    if len(users) < 3:
        return ["Demo leads: the demo users are missing."]
    if Lead.objects.exists():
        return ["Demo leads: already loaded."]
    rng = random.Random(SEED)  # noqa: S311  # demo data, not a secret
    with transaction.atomic():
        _rules(users)
        form = _form(users["rep.east"].team, users["manager"])
        opened = _open_leads(rng, users["manager"], form)
        closed = _closed_leads(rng, users)
        pooled = _pool_customers()
        scoring.leads_rescore()
    model = learning.lead_model_train(actor=None) if learning.model_offered() else None
    auc = f", lead model AUC {model.auc:.2f}" if model else ""
    return [
        f"Demo leads: {opened} open and {closed} closed leads, form /leads/f/{form.slug}/, "
        f"{pooled} customers in the public pool{auc}."
    ]
