"""Stale assignment rule edits are refused (page and API); an agent marked away gets no new
tickets until available again (group page, API, and the agent's own toggle on the queue)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from guanxi.service import services
from guanxi.service.models import AgentMembership, AssignmentRule


def _send(client: Client, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    call = getattr(client, method)
    return call(path, json.dumps(body), content_type="application/json", headers=headers)


def _rule_body(rule: AssignmentRule, **changes: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "category": "",
        "type": "",
        "channel": "",
        "group": rule.group_id,
        "strategy": rule.strategy,
        "skill": "",
        "is_active": "on",
        **changes,
    }


def test_a_stale_rule_edit_is_refused_on_the_page(
    client: Client, admin_user: Any, agent: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    rule = services.rule_save(actor=admin_user, values={"name": "全部", "group": group})
    client.force_login(admin_user)
    page = client.get(f"/service/settings/rules/{rule.pk}/").content.decode()
    assert f'name="version" value="{rule.version}"' in page

    first = client.post(
        f"/service/settings/rules/{rule.pk}/",
        _rule_body(rule, name="第一人", version=rule.version),
    )
    stale = client.post(
        f"/service/settings/rules/{rule.pk}/",
        _rule_body(rule, name="第二人", version=rule.version),
    )
    stale_delete = client.post(
        f"/service/settings/rules/{rule.pk}/delete/", {"version": rule.version}, follow=True
    )
    rule.refresh_from_db()

    assert first.status_code == 302
    assert stale.status_code == 200
    assert "Someone else changed this record" in stale.content.decode()
    assert "Someone else changed this record" in stale_delete.content.decode()
    assert (rule.name, rule.version) == ("第一人", 2)

    client.post(f"/service/settings/rules/{rule.pk}/delete/", {"version": rule.version})
    assert not AssignmentRule.objects.exists()


def test_a_stale_rule_edit_is_refused_through_the_api(
    client: Client, bearer: Any, admin_user: Any, agent: Any
) -> None:
    headers = bearer(admin_user)
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, "")])
    rule = _send(
        client,
        "post",
        "/api/v1/service/assignment-rules",
        {"name": "全部", "group_id": group.pk},
        headers,
    ).json()
    assert rule["version"] == 1
    path = f"/api/v1/service/assignment-rules/{rule['id']}"

    changed = _send(
        client, "put", path, {"name": "改过", "group_id": group.pk, "version": 1}, headers
    )
    stale = _send(
        client, "put", path, {"name": "覆盖", "group_id": group.pk, "version": 1}, headers
    )
    stale_delete = client.delete(f"{path}?version=1", headers=headers)

    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    assert stale.status_code == 409
    assert stale_delete.status_code == 409
    assert AssignmentRule.objects.get().name == "改过"
    assert client.delete(f"{path}?version=2", headers=headers).status_code == 204


def test_an_away_member_gets_no_new_tickets_until_available_again(
    client: Client, admin_user: Any, agent: Any, agent2: Any, customer: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, ""), (agent2, "")])
    services.rule_save(actor=admin_user, values={"name": "全部", "group": group})
    client.force_login(admin_user)

    away = client.post(
        f"/service/settings/groups/{group.pk}/",
        {"name": "支持", "members": "agent.li (away)\nagent.wang", "version": group.version},
    )
    edit_page = client.get(f"/service/settings/groups/{group.pk}/").content.decode()
    while_away = [
        services.ticket_open(actor=agent, customer=customer, subject=f"问题 {n}", description="")
        for n in range(3)
    ]
    group.refresh_from_db()

    assert away.status_code == 302
    assert "agent.li (away)" in edit_page
    assert {t.assignee for t in while_away} == {agent2}

    client.post(
        f"/service/settings/groups/{group.pk}/",
        {"name": "支持", "members": "agent.li\nagent.wang", "version": group.version},
    )
    back = [
        services.ticket_open(actor=agent, customer=customer, subject=f"再来 {n}", description="")
        for n in range(2)
    ]

    assert {t.assignee for t in back} == {agent, agent2}


def test_member_availability_through_the_api(
    client: Client, bearer: Any, admin_user: Any, agent: Any, agent2: Any
) -> None:
    headers = bearer(admin_user)
    group = _send(
        client,
        "post",
        "/api/v1/service/agent-groups",
        {
            "name": "支持",
            "members": [{"user_id": agent.pk, "is_available": False}, {"user_id": agent2.pk}],
        },
        headers,
    ).json()
    available = {m["username"]: m["is_available"] for m in group["members"]}
    assert available == {"agent.li": False, "agent.wang": True}

    # Leaving `is_available` out keeps what the member had.
    kept = _send(
        client,
        "put",
        f"/api/v1/service/agent-groups/{group['id']}",
        {
            "name": "支持",
            "members": [{"user_id": agent.pk, "skills": ["vip"]}, {"user_id": agent2.pk}],
            "version": group["version"],
        },
        headers,
    ).json()
    assert {m["username"]: m["is_available"] for m in kept["members"]} == available

    back = _send(
        client,
        "put",
        f"/api/v1/service/agent-groups/{group['id']}",
        {
            "name": "支持",
            "members": [{"user_id": agent.pk, "is_available": True}, {"user_id": agent2.pk}],
            "version": kept["version"],
        },
        headers,
    ).json()
    assert all(m["is_available"] for m in back["members"])


def test_an_agent_marks_themselves_away_from_the_queue_but_not_someone_else(
    client: Client, admin_user: Any, agent: Any, agent2: Any, customer: Any
) -> None:
    group = services.group_save(actor=admin_user, name="支持", members=[(agent, ""), (agent2, "")])
    services.rule_save(actor=admin_user, values={"name": "全部", "group": group})
    mine = AgentMembership.objects.get(user=agent)
    theirs = AgentMembership.objects.get(user=agent2)
    client.force_login(agent)

    queue = client.get("/service/").content.decode()
    toggled = client.post(
        f"/service/availability/{mine.pk}/", {"available": "0"}, headers={"HX-Request": "true"}
    )
    someone_else = client.post(f"/service/availability/{theirs.pk}/", {"available": "0"})
    tickets = [
        services.ticket_open(actor=agent, customer=customer, subject=f"问题 {n}", description="")
        for n in range(2)
    ]
    mine.refresh_from_db()
    theirs.refresh_from_db()

    assert "支持: available" in queue
    assert toggled.status_code == 200
    assert "支持: away" in toggled.content.decode()
    assert someone_else.status_code == 404
    assert (mine.is_available, theirs.is_available) == (False, True)
    assert {t.assignee for t in tickets} == {agent2}

    client.post(f"/service/availability/{mine.pk}/", {"available": "1"})
    mine.refresh_from_db()
    assert mine.is_available
