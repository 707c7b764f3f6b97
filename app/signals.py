"""What happened, told to whoever listens above the services, after the commit (never
for a change that rolled back). The web layer turns a changed ticket into the htmx event
`ticketChanged` (app/web.py), so every part of a page showing that ticket can refresh.

Below the services, like app/clock.py: services send, the web layer listens."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the ticket id; `kinds`: the timeline event kinds the transaction added, in order.
ticket_changed = _signals.signal("ticket-changed")
