"""Benchmark: due times over a working calendar (issue 19: under 1 ms per ticket for
SLAs up to 30 days over a calendar with 50 holidays).

    .venv/bin/python bench/due_times.py [--tickets 10000] [--seed 19]

A calendar in Asia/Tashkent, Mon-Fri 08:00-13:00 and 14:00-20:00, Sat 09:00-15:00, 50
explicit holidays spread over the year and the country's (UZ) public holidays too; a
second one in Europe/Berlin (DST) with the same shape. For `--tickets` tickets created
at random moments of 2026-2027, each with a random response and resolution SLA from
1 hour to 30 days, `sla_clock.deadlines` computes what ticket creation stores: both due
times and both warning moments (four walks over the calendar). Each ticket is timed on
its own (perf_counter_ns); the script reports the mean, p95, p99 and max per ticket, for
a first pass with cold caches (the compiled calendar, the country's holidays per year and
the per-day intervals all start empty) and a second pass over the same tickets, then the
30-day SLAs alone. It checks every result: minutes between start and due == the SLA.
The CPU time per ticket of each pass (process time over the pass, per ticket) is printed
too: on a loaded machine the wall-clock mean and max carry the waits for a core. No
database; about 15 seconds.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.models import TicketPriority, WorkingCalendar  # noqa: E402
from app.services import calendars, sla_clock  # noqa: E402

SLAS = [60, 120, 240, 480, 1440, 2880, 4320, 10080, 20160, 43200]  # up to 30 days


class Sub:
    """The two methods of IssueSubcategory that deadlines() reads."""

    def __init__(self, response: int, resolution: int):
        self.response, self.resolution = response, resolution

    def response_minutes(self, priority):
        return self.response

    def resolution_minutes(self, priority):
        return self.resolution


def make_calendar(name: str, zone: str, country: str, rng: random.Random) -> WorkingCalendar:
    day = [["08:00", "13:00"], ["14:00", "20:00"]]
    start = date(2026, 1, 1)
    holidays = sorted({(start + timedelta(days=rng.randrange(730))).isoformat() for _ in range(60)})[:50]
    return WorkingCalendar(id=f"bench-{name}", version=1, name=name, timezone=zone, country=country,
                           holidays=holidays,
                           week={"mon": day, "tue": day, "wed": day, "thu": day, "fri": day,
                                 "sat": [["09:00", "15:00"]], "sun": []})


CPU: dict[int, float] = {}  # id(times) -> CPU ms per ticket of that run


def run(calendar, tickets, check: bool, uncached: bool = False) -> list[float]:
    times = []
    cpu0 = time.process_time_ns()
    for start, sub in tickets:
        if uncached:
            calendars._day_spans.cache_clear()
        t0 = time.perf_counter_ns()
        d = sla_clock.deadlines(sub, TicketPriority.NORMAL, start, calendar=calendar)
        times.append((time.perf_counter_ns() - t0) / 1e6)
        if check:
            assert calendars.working_minutes_between(calendar, start, d.resolution_due_at) == sub.resolution
            assert calendars.working_minutes_between(calendar, start, d.response_due_at) == sub.response
    CPU[id(times)] = (time.process_time_ns() - cpu0) / 1e6 / len(tickets)
    return times


def report(label: str, times: list[float]) -> None:
    q = statistics.quantiles(times, n=100)
    print(f"  {label:<34} n={len(times):>6}  mean {statistics.fmean(times):.3f} ms  p95 {q[94]:.3f} ms  "
          f"p99 {q[98]:.3f} ms  max {max(times):.3f} ms  (CPU {CPU[id(times)]:.3f} ms/ticket)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    t_start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for name, zone, country in (("tashkent", "Asia/Tashkent", "UZ"), ("berlin", "Europe/Berlin", "DE")):
        calendar = make_calendar(name, zone, country, rng)
        tickets = []
        for _ in range(args.tickets):
            resolution = rng.choice(SLAS)
            response = rng.choice([m for m in SLAS if m <= resolution])
            tickets.append((t_start + timedelta(seconds=rng.randrange(2 * 365 * 86400)), Sub(response, resolution)))
        long = [(s, Sub(43200, 43200)) for s, _sub in tickets[: args.tickets // 10]]
        print(f"{name}: {zone}, {len(calendar.holidays)} explicit holidays + {country}'s, "
              f"{args.tickets} tickets, SLAs 1 h - 30 days", flush=True)
        report("first pass (cold caches)", run(calendar, tickets, check=False))
        report("second pass (warm)", run(calendar, tickets, check=False))
        report("30-day response and resolution", run(calendar, long, check=False))
        report("30-day, per-day cache emptied", run(calendar, long, check=False, uncached=True))
        run(calendar, tickets, check=True)
        print("  checked: working minutes from creation to each due time == its SLA", flush=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
