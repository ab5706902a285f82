"""The shared SMTP fixture receives what Django sends through a real SMTP conversation."""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail


def test_mail_sent_by_django_arrives_at_the_smtp_server(smtp_server: Any) -> None:
    send_mail("Hello 你好", "Body 正文", "crm@example.com", ["ann@example.com"])
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Hello 你好"
    assert message["X-Envelope-To"] == "ann@example.com"
    assert "正文" in message.get_content()
