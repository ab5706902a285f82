"""Demo customers: people and organisations with contacts, tags, groups and consent."""

from __future__ import annotations

from django.db import transaction

from guanxi.accounts.models import User
from guanxi.customers.models import Customer, CustomerGroup
from guanxi.customers.services import (
    address_save,
    consent_record,
    contact_create,
    customer_create,
    customers_group,
    customers_tag,
    group_create,
    tag_get_or_create,
)

PEOPLE = [
    ("张伟", "13811112222", "zhang.wei@example.cn", "上海市", "上海", "female"),
    ("王芳", "13922223333", "wang.fang@example.cn", "北京市", "北京", "female"),
    ("李娜", "13633334444", "", "广东省", "深圳", "female"),
    ("刘洋", "13744445555", "liu.yang@example.cn", "浙江省", "杭州", "male"),
    ("陈静", "15055556666", "", "江苏省", "南京", "female"),
    ("欧阳明", "18666667777", "ouyang@example.cn", "四川省", "成都", "male"),
    ("Anna Schmidt", "+49 30 1234567", "anna.schmidt@example.de", "Berlin", "Berlin", "female"),
    ("James Miller", "+1 415 555 0134", "james@example.com", "California", "San Francisco", "male"),
]
COMPANIES = [
    ("enterprise", "华星科技有限公司", "I", "large", "上海市", "上海", "91310000MA1FL0TT8X"),
    ("enterprise", "北方重工集团", "C", "huge", "辽宁省", "沈阳", ""),
    ("enterprise", "Acme Trading GmbH", "F", "medium", "Hamburg", "Hamburg", ""),
    ("government", "杭州市数据资源管理局", "S", "", "浙江省", "杭州", ""),
    ("investor", "远景资本管理有限公司", "J", "small", "北京市", "北京", ""),
]
CONTACTS = [
    ("赵经理", "采购总监", "decision_maker", "13566667777"),
    ("孙工", "IT 主管", "influencer", "13477778888"),
]


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    if Customer.objects.filter(name="华星科技有限公司").exists():
        return ["Demo customers already present."]
    manager = User.objects.filter(username="manager").first()
    reps = list(User.objects.filter(username__in=["rep.east", "rep.north"]).order_by("username"))
    if manager is None or not reps:
        return ["No demo users: demo customers skipped."]
    created = []
    for index, (name, phone, email, region, city, gender) in enumerate(PEOPLE):
        customer = customer_create(
            actor=manager,
            owner=reps[index % len(reps)],
            allow_duplicate=True,
            values={
                "kind": "person",
                "name": name,
                "phone": phone,
                "email": email,
                "region": region,
                "city": city,
                "gender": gender,
                "source": "referral",
            },
        )
        consent_record(
            actor=manager,
            customer=customer,
            purpose="marketing_email",
            granted=index % 3 != 0,
            channel="web form",
            wording="我同意接收产品资讯邮件 / I agree to receive product news.",
        )
        created.append(customer)
    for index, (kind, name, industry, size, region, city, code) in enumerate(COMPANIES):
        company = customer_create(
            actor=manager,
            owner=reps[index % len(reps)],
            allow_duplicate=True,
            values={
                "kind": kind,
                "name": name,
                "legal_name": name,
                "industry": industry,
                "size_band": size,
                "region": region,
                "city": city,
                "credit_code": code,
                "source": "offline_event",
            },
        )
        address_save(
            actor=manager,
            customer=company,
            values={
                "kind": "office",
                "region": region,
                "city": city,
                "street": "科技园路 88 号",
            },
        )
        for contact_name, title, role, phone in CONTACTS[: 1 + index % 2]:
            contact_create(
                actor=manager,
                customer=company,
                values={"name": contact_name, "title": title, "buying_role": role},
                phones=[phone],
            )
        created.append(company)
    vip = tag_get_or_create(actor=manager, name="VIP")
    new = tag_get_or_create(actor=manager, name="新客户")
    key_accounts = CustomerGroup.objects.filter(name="重点客户").first() or group_create(
        actor=manager, name="重点客户", description="Key accounts"
    )
    group_create(actor=manager, name="华东区", parent=key_accounts)
    ids = [customer.pk for customer in created]
    customers_tag(actor=manager, customers=Customer.objects.filter(pk__in=ids[:4]), tag=vip)
    customers_tag(actor=manager, customers=Customer.objects.filter(pk__in=ids[-6:]), tag=new)
    customers_group(
        actor=manager, customers=Customer.objects.filter(pk__in=ids[8:11]), group=key_accounts
    )
    return [f"Demo customers: {len(created)} created."]
