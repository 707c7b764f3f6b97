"""The domain: every rule and every write lives here. Services flush; the edge commits."""
