"""A user's tasks as an iCalendar (RFC 5545) document, built with the icalendar package.

Each task with a due time becomes a VEVENT: an all-day task spans its day, a timed task
lasts 30 minutes from its due time. Events rather than VTODOs, because most calendar apps
ignore to-dos in a subscribed feed; a done task keeps its event with a "✓" before its title.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from guanxi.activities.models import Status, Task

TIMED_DURATION = dt.timedelta(minutes=30)


def feed_calendar(tasks: list[Task], *, host: str, base_url: str = "") -> bytes:
    """The VCALENDAR text of `tasks` (UIDs stable per task and host)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Guanxi CRM//Tasks//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Guanxi tasks"))
    stamp = timezone.now()
    for task in tasks:
        if task.due_at is None:
            continue
        event = Event()
        event.add("uid", f"task-{task.pk}@{host}")
        event.add("dtstamp", stamp)
        done = task.status == Status.DONE
        event.add("summary", f"✓ {task.title}" if done else task.title)
        if task.all_day:
            day = timezone.localtime(task.due_at).date()
            event.add("dtstart", day)
            event.add("dtend", day + dt.timedelta(days=1))
        else:
            event.add("dtstart", task.due_at)
            event.add("dtend", task.due_at + TIMED_DURATION)
        description = task.description
        if task.customer is not None:
            description = f"{_('Customer')}: {task.customer.name}\n{description}".strip()
        if description:
            event.add("description", description)
        if base_url:
            event.add("url", f"{base_url}/activities/tasks/{task.pk}/")
        event.add("last-modified", task.updated_at)
        event.add("sequence", task.version)
        event.add("priority", {"urgent": 1, "high": 3, "normal": 5, "low": 9}[task.priority])
        calendar.add_component(event)
    return bytes(calendar.to_ical())
