"""Demo data (replaced by the full generator)."""
DEMO_LOGINS = []


def load_demo(force=False):
    return []
