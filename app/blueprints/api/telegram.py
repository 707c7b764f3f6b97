"""API: telegram (see API.md)."""
