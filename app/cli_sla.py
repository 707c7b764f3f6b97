"""flask sla escalate (filled in by the SLA engine)."""


def register_sla_cli(app) -> None:
    pass
