"""Notification delivery jobs."""
