"""Sales: pipelines, opportunities, the board, funnel, forecast, targets and quotes."""
