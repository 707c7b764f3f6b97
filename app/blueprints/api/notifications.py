"""API: notifications (see API.md)."""
