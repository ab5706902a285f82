"""Leads: capture, web-to-lead forms, intent levels, scoring, assignment, conversion
and the public pool."""
