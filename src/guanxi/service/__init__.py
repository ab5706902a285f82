"""The service desk: tickets, SLA clocks, email in and out, callbacks, surveys, knowledge base and the customer portal."""
