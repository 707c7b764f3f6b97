"""API: cron (see API.md)."""
