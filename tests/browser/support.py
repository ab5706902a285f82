"""What the browser tests share besides fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field

PASSWORD = "correct-horse-42"


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran, beyond what the test asserts."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
