"""SLA sweep jobs (periodic)."""
