"""Activities: tasks, reminders, the "my day" page, the calendar and its iCalendar feed."""
