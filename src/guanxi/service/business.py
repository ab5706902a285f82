"""Business-time arithmetic: add business minutes to a moment, count them between two.

A calendar is working hours per ISO weekday in a time zone, minus holidays, plus make-up
working days (调休, worked with Monday's hours). No calendar means round the clock. Written
here because the libraries that do this (businesstime, workalendar) either lack make-up
days or ship their own fixed holiday tables; ours are configured per deployment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from guanxi.service.models import BusinessCalendar, CalendarDayKind

# A due time further than this many days ahead is a misconfigured calendar (no hours).
MAX_DAYS = 3660
WEEKDAY_HOURS = {str(day): [["09:00", "18:00"]] for day in range(1, 6)}


def _time(value: str) -> dt.time:
    hour, minute = value.split(":")
    if int(hour) == 24:  # "24:00" closes the day
        return dt.time.max
    return dt.time(int(hour), int(minute))


@dataclass
class Clock:
    """What a BusinessCalendar says, read once: use it for many tickets."""

    time_zone: ZoneInfo
    hours: dict[int, list[tuple[dt.time, dt.time]]]
    holidays: set[dt.date] = field(default_factory=set)
    workdays: set[dt.date] = field(default_factory=set)
    round_the_clock: bool = False

    @classmethod
    def of(cls, calendar: BusinessCalendar | None) -> Clock:
        if calendar is None:
            return cls(time_zone=ZoneInfo("UTC"), hours={}, round_the_clock=True)
        hours = {
            int(day): [(_time(start), _time(end)) for start, end in spans]
            for day, spans in (calendar.hours or {}).items()
        }
        clock = cls(time_zone=ZoneInfo(calendar.time_zone), hours=hours)
        for day in calendar.days.all():
            if day.kind == CalendarDayKind.HOLIDAY:
                clock.holidays.add(day.date)
            else:
                clock.workdays.add(day.date)
        return clock

    def spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working periods of a local date as aware datetimes."""
        if day in self.holidays:
            return []
        weekday = 1 if day in self.workdays else day.isoweekday()
        spans = []
        for start, end in self.hours.get(weekday, []):
            begin = dt.datetime.combine(day, start, self.time_zone)
            finish = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, self.time_zone)
                if end == dt.time.max
                else dt.datetime.combine(day, end, self.time_zone)
            )
            if finish > begin:
                spans.append((begin, finish))
        return spans

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The moment `minutes` business minutes after `start`."""
        if self.round_the_clock:
            return start + dt.timedelta(minutes=minutes)
        left = dt.timedelta(minutes=minutes)
        day = start.astimezone(self.time_zone).date()
        for _ in range(MAX_DAYS):
            for begin, finish in self.spans(day):
                begin = max(begin, start)
                if finish <= begin:
                    continue
                if finish - begin >= left:
                    return (begin + left).astimezone(dt.UTC)
                left -= finish - begin
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working hours")

    def between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Business minutes from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0
        if self.round_the_clock:
            return int((end - start).total_seconds() // 60)
        total = dt.timedelta()
        day = start.astimezone(self.time_zone).date()
        last = end.astimezone(self.time_zone).date()
        while day <= last:
            for begin, finish in self.spans(day):
                low, high = max(begin, start), min(finish, end)
                if high > low:
                    total += high - low
            day += dt.timedelta(days=1)
        return int(total.total_seconds() // 60)
