"""Customer-facing service: satisfaction surveys (CSAT, NPS, questionnaires), the knowledge
base and the customer portal."""
