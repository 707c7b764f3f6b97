"""API: analytics (see API.md)."""
