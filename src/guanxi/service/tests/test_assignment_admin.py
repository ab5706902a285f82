"""Administering agent groups and assignment rules: the settings pages and the API, their
refusals, and that a rule set up through the API assigns the next new ticket."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from guanxi.service import services
from guanxi.service.models import AgentGroup, AgentMembership, AssignmentRule, TicketCategory


def _send(client: Client, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    call = getattr(client, method)
    return call(path, json.dumps(body), content_type="application/json", headers=headers)


# --- pages ----------------------------------------------------------------------------------


def test_an_administrator_creates_edits_and_deletes_a_group_on_the_page(
    client: Client, admin_user: Any, agent: Any, agent2: Any
) -> None:
    client.force_login(admin_user)

    created = client.post(
        "/service/settings/groups/new/",
        {"name": "一线支持", "manager": agent.pk, "members": "agent.li: VIP, 发票\nagent.wang"},
    )
    group = AgentGroup.objects.get(name="一线支持")
    skills = dict(group.memberships.values_list("user__username", "skills"))
    settings_page = client.get("/service/settings/")

    assert created.status_code == 302
    assert (group.manager, skills) == (agent, {"agent.li": "vip, 发票", "agent.wang": ""})
    assert f"/service/settings/groups/{group.pk}/" in settings_page.content.decode()
    assert (
        "agent.li: vip, 发票"
        in client.get(f"/service/settings/groups/{group.pk}/").content.decode()
    )

    edited = client.post(
        f"/service/settings/groups/{group.pk}/",
        {"name": "二线支持", "members": "agent.wang: 退款", "version": group.version},
    )
    group.refresh_from_db()

    assert edited.status_code == 302
    assert group.name == "二线支持"
    assert list(group.memberships.values_list("user__username", "skills")) == [
        ("agent.wang", "退款")
    ]

    deleted = client.post(f"/service/settings/groups/{group.pk}/delete/")

    assert deleted.status_code == 302
    assert not AgentGroup.objects.filter(pk=group.pk).exists()


def test_the_group_page_names_an_unknown_member_and_refuses_a_stale_edit(
    client: Client, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    services.group_save(actor=admin_user, name="支持组", group=group, version=group.version)
    client.force_login(admin_user)

    unknown = client.post(
        f"/service/settings/groups/{group.pk}/",
        {"name": "支持", "members": "agent.li\nnobody", "version": group.version + 1},
    )
    stale = client.post(
        f"/service/settings/groups/{group.pk}/",
        {"name": "被覆盖", "members": "agent.li", "version": group.version},
    )
    group.refresh_from_db()

    assert unknown.status_code == 200
    assert "Line 2: there is no active agent “nobody”." in unknown.content.decode()
    assert "Someone else changed this record" in stale.content.decode()
    assert group.name == "支持组"


def test_a_group_used_by_a_rule_is_not_deleted(client: Client, admin_user: Any, agent: Any) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    services.rule_save(actor=admin_user, values={"name": "全部", "group": group})
    client.force_login(admin_user)

    response = client.post(f"/service/settings/groups/{group.pk}/delete/", follow=True)

    assert AgentGroup.objects.filter(pk=group.pk).exists()
    assert "1 assignment rule(s) send tickets to this group" in response.content.decode()


def test_an_administrator_creates_edits_and_deletes_a_rule_on_the_page(
    client: Client, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="账单组", members=[(agent, "发票")])
    category = TicketCategory.objects.create(name="账单")
    client.force_login(admin_user)
    body = {
        "name": "账单问题",
        "position": 10,
        "category": category.pk,
        "type": "",
        "channel": "email",
        "group": group.pk,
        "strategy": "load",
        "skill": "发票",
        "is_active": "on",
    }

    created = client.post("/service/settings/rules/new/", body)
    rule = AssignmentRule.objects.get()

    assert created.status_code == 302
    assert (rule.category, rule.channel, rule.strategy, rule.skill) == (
        category,
        "email",
        "load",
        "发票",
    )
    assert "账单问题" in client.get("/service/settings/").content.decode()

    edited = client.post(
        f"/service/settings/rules/{rule.pk}/", {**body, "strategy": "round_robin", "skill": ""}
    )
    rule.refresh_from_db()
    assert edited.status_code == 302
    assert (rule.strategy, rule.skill) == ("round_robin", "")

    client.post(f"/service/settings/rules/{rule.pk}/delete/")
    assert not AssignmentRule.objects.exists()


def test_a_rule_asking_for_a_skill_nobody_in_the_group_has_is_refused_on_the_page(
    client: Client, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "vip")])
    client.force_login(admin_user)

    response = client.post(
        "/service/settings/rules/new/",
        {"name": "法语", "position": 1, "group": group.pk, "strategy": "load", "skill": "法语"},
    )

    assert response.status_code == 200
    assert "No member of this group has the skill “法语”." in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_the_rule_page_speaks_chinese(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)

    response = client.get("/service/settings/rules/new/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()

    assert "新建分配规则" in page
    assert "轮流分配" in page


def test_an_agent_cannot_open_or_post_the_admin_pages(
    client: Client, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    client.force_login(agent)

    responses = [
        client.get("/service/settings/groups/new/").status_code,
        client.post(f"/service/settings/groups/{group.pk}/", {"name": "x"}).status_code,
        client.post(f"/service/settings/groups/{group.pk}/delete/").status_code,
        client.post("/service/settings/rules/new/", {"name": "x"}).status_code,
    ]

    assert responses == [403, 403, 403, 403]
    assert AgentGroup.objects.get().name == "支持"


# --- API ------------------------------------------------------------------------------------


def test_groups_and_rules_through_the_api(
    client: Client, bearer: Any, admin_user: Any, agent: Any, agent2: Any
) -> None:
    headers = bearer(admin_user)

    created = _send(
        client,
        "post",
        "/api/v1/service/agent-groups",
        {
            "name": "一线",
            "manager_id": agent.pk,
            "members": [{"user_id": agent.pk, "skills": ["VIP"]}, {"user_id": agent2.pk}],
        },
        headers,
    )
    group = created.json()

    assert created.status_code == 201
    assert [(m["username"], m["skills"]) for m in group["members"]] == [
        ("agent.li", ["vip"]),
        ("agent.wang", []),
    ]

    stale = _send(
        client,
        "put",
        f"/api/v1/service/agent-groups/{group['id']}",
        {"name": "x", "version": group["version"] + 5},
        headers,
    )
    updated = _send(
        client,
        "put",
        f"/api/v1/service/agent-groups/{group['id']}",
        {"name": "一线支持", "version": group["version"]},
        headers,
    )

    assert stale.status_code == 409
    assert stale["Content-Type"] == "application/problem+json"
    assert (updated.status_code, updated.json()["name"]) == (200, "一线支持")
    assert len(updated.json()["members"]) == 2

    rule = _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": "VIP", "group_id": group["id"], "skill": "vip", "strategy": "load"},
        headers,
    )
    changed = _send(
        client,
        "put",
        f"/api/v1/service/assignment-rules/{rule.json()['id']}",
        {"name": "VIP 邮件", "group_id": group["id"], "channel": "email", "position": 5},
        headers,
    )
    listed = client.get("/api/v1/service/assignment-rules", headers=headers).json()

    assert rule.status_code == 201
    assert changed.status_code == 200
    assert [(r["name"], r["channel"], r["position"], r["skill"]) for r in listed] == [
        ("VIP 邮件", "email", 5, "")
    ]

    refused = client.delete(f"/api/v1/service/agent-groups/{group['id']}", headers=headers)
    rule_gone = client.delete(
        f"/api/v1/service/assignment-rules/{rule.json()['id']}", headers=headers
    )
    group_gone = client.delete(f"/api/v1/service/agent-groups/{group['id']}", headers=headers)

    assert (refused.status_code, rule_gone.status_code, group_gone.status_code) == (
        400,
        204,
        204,
    )
    assert not AgentGroup.objects.exists()
    assert not AgentMembership.objects.exists()


def test_api_validation_errors_are_problems_naming_the_field(
    client: Client, bearer: Any, admin_user: Any, agent: Any
) -> None:
    headers = bearer(admin_user)
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])

    duplicate = _send(client, "post", "/api/v1/service/agent-groups", {"name": "支持"}, headers)
    bad_rule = _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": " ", "group_id": group.pk, "channel": "fax", "skill": "日语"},
        headers,
    )
    unknown_group = _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": "r", "group_id": 999999},
        headers,
    )

    assert duplicate.status_code == 400
    assert duplicate["Content-Type"] == "application/problem+json"
    assert duplicate.json()["errors"] == [
        {"field": "name", "message": "A group with this name exists."}
    ]
    assert bad_rule.status_code == 400
    assert {e["field"] for e in bad_rule.json()["errors"]} == {"name", "channel", "skill"}
    assert unknown_group.status_code == 404
    assert not AssignmentRule.objects.exists()


def test_an_agent_may_list_but_not_change_groups_and_rules_through_the_api(
    client: Client, bearer: Any, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    headers = bearer(agent)

    listed = client.get("/api/v1/service/agent-groups", headers=headers)
    created = _send(client, "post", "/api/v1/service/agent-groups", {"name": "我的"}, headers)
    rule = _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": "r", "group_id": group.pk},
        headers,
    )
    deleted = client.delete(f"/api/v1/service/agent-groups/{group.pk}", headers=headers)

    assert listed.status_code == 200
    assert (created.status_code, rule.status_code, deleted.status_code) == (403, 403, 403)
    assert list(AgentGroup.objects.values_list("name", flat=True)) == ["支持"]


def test_a_rule_created_through_the_api_assigns_the_next_new_tickets(
    client: Client, bearer: Any, admin_user: Any, agent: Any, agent2: Any, customer: Any
) -> None:
    headers = bearer(admin_user)
    category = TicketCategory.objects.create(name="退款")
    group = _send(
        client,
        "post",
        "/api/v1/service/agent-groups",
        {
            "name": "退款组",
            "members": [
                {"user_id": agent.pk, "skills": ["退款"]},
                {"user_id": agent2.pk, "skills": ["退款"]},
            ],
        },
        headers,
    ).json()
    _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": "退款轮流", "category_id": category.pk, "group_id": group["id"], "skill": "退款"},
        headers,
    )

    opened = [
        _send(
            client,
            "post",
            "/api/v1/service/tickets",
            {"customer_id": customer.pk, "subject": f"退款 {n}", "category_id": category.pk},
            bearer(agent),
        ).json()
        for n in range(3)
    ]
    other = services.ticket_open(actor=agent, customer=customer, subject="其他", description="")

    assignees = [t["assignee"]["id"] if t["assignee"] else None for t in opened]
    assert assignees[0] in {agent.pk, agent2.pk}
    assert assignees[1] == ({agent.pk, agent2.pk} - {assignees[0]}).pop()
    assert assignees[2] == assignees[0]
    assert other.assignee is None


def test_the_admin_endpoints_are_in_the_openapi_schema(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/service/agent-groups"])
    assert {"put", "delete"} <= set(paths["/api/v1/service/agent-groups/{group_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/service/assignment-rules"])
    assert {"put", "delete"} <= set(paths["/api/v1/service/assignment-rules/{rule_id}"])
