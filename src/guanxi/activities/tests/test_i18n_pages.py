"""The activities pages speak Chinese to a Chinese browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from guanxi.activities.tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("activities:my-day", "我的一天"),
        ("activities:tasks", "完成所选"),
        ("activities:calendar", "在日历应用中订阅"),
        ("activities:notifications", "全部标为已读"),
    ],
)
def test_the_pages_are_translated(rep: Any, make_task: Any, name: str, text: str) -> None:
    make_task(rep)

    response = client_for(rep).get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert text in response.content.decode()
