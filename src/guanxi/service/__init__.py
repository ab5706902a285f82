"""The service desk: tickets, SLA clocks, email in and out, assignment, escalation and
callbacks."""
