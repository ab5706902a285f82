"""Guanxi (关系): an open-source CRM built around customer grading."""

__version__ = "0.1.0"
