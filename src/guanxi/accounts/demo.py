"""Demo company: a team tree, the administrator and one user per built-in role."""

from __future__ import annotations

import secrets

from django.db import transaction

from guanxi.accounts.models import Role, Team, User
from guanxi.accounts.services import builtin_roles_ensure, team_create, user_create

DEMO_ROOT = "关系示范公司 Guanxi Demo Co."

# (username, display name, role code, team key)
DEMO_USERS = [
    ("manager", "王经理 Wang Min", "sales-manager", "sales"),
    ("rep.east", "李娜 Li Na", "sales-rep", "east"),
    ("rep.north", "张伟 Zhang Wei", "sales-rep", "north"),
    ("agent", "陈静 Chen Jing", "service-agent", "service"),
    ("marketer", "刘洋 Liu Yang", "marketer", "marketing"),
    ("analyst", "赵磊 Zhao Lei", "analyst", "hq"),
    ("auditor", "孙丽 Sun Li", "auditor", "hq"),
]


def _password() -> str:
    return secrets.token_urlsafe(9)


@transaction.atomic
def administrator_ensure(*, username: str, password: str | None) -> tuple[str, str | None] | None:
    """Create the first administrator on a database without users; None if users exist."""
    if User.objects.exists():
        return None
    builtin_roles_ensure()
    generated = password is None
    secret = password or _password()
    user_create(
        actor=None,
        username=username,
        password=secret,
        display_name="Administrator",
        role=Role.objects.get(code="administrator"),
        is_superuser=True,
    )
    return username, secret if generated else None


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Create the demo team tree and users unless they exist; yields the logins."""
    if Team.objects.filter(name=DEMO_ROOT, parent=None).exists():
        return ["Demo company already present."]
    builtin_roles_ensure()
    hq = team_create(actor=None, name=DEMO_ROOT)
    sales = team_create(actor=None, name="销售部 Sales", parent=hq)
    teams = {
        "hq": hq,
        "sales": sales,
        "east": team_create(actor=None, name="华东销售组 East China", parent=sales),
        "north": team_create(actor=None, name="华北销售组 North China", parent=sales),
        "service": team_create(actor=None, name="客户服务部 Customer Service", parent=hq),
        "marketing": team_create(actor=None, name="市场部 Marketing", parent=hq),
    }
    User.objects.filter(team__isnull=True, is_superuser=True).update(team=hq)
    roles = {role.code: role for role in Role.objects.all()}
    lines = ["Demo users (username / password):"]
    for username, display_name, role_code, team_key in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = _password()
        user_create(
            actor=None,
            username=username,
            password=password,
            display_name=display_name,
            role=roles[role_code],
            team=teams[team_key],
        )
        lines.append(f"  {username:<10} {password}   {display_name} · {roles[role_code].name}")
    return lines
