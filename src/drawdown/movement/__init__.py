"""Movement engine: how fast forces can come and go by air, sea, rail and road.

``simulate(moves, lift)`` plans a route for every move and runs a SimPy discrete-event simulation in which loads
queue for aircraft, ships, airfield and port capacity and rail departure slots. With ``samples > 1`` every
uncertain lift figure (those with a published range) is drawn per sample from a seeded generator and closure
times are reported as p10/p50/p90. Pure: reads no files, prints nothing. Model: ``docs/models/movement.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from drawdown.movement.engine import NoRoute, Planner, Result, Simulation, plans_for
from drawdown.movement.model import Asset, Link, Move, Network, Node, Reception
from drawdown.movement.network import LiftData, lift_data

__all__ = ["Asset", "Link", "LiftData", "Move", "MovementResult", "Network", "NoRoute", "Node", "Reception",
           "lift_data", "run_once", "simulate", "withdrawal_capacity"]

#: A move not ready this many days after the last release is reported stuck.
DEFAULT_UNTIL_DAYS = 730


def run_once(moves: Sequence[Move], lift: LiftData, rng: np.random.Generator | None = None, *,
             until_days: float = DEFAULT_UNTIL_DAYS) -> Result:
    """One simulation: planning values (``rng`` None) or one draw of every uncertain figure."""
    assets = lift.assets(rng)
    # lift dedicated to an action comes out of the shared pool (once per action, however many moves it has)
    dedicated: dict[str, float] = {}
    for group, counts in {(m.lift_group or m.id): m.lift for m in moves if m.lift}.items():
        for asset, count in counts.items():
            dedicated[asset] = dedicated.get(asset, 0.0) + count
    assets = {k: replace(a, available=max(0, a.available - int(dedicated.get(k, 0)))) for k, a in assets.items()}
    reception = lift.reception(rng)
    network = lift.network_for(rng)
    planner = Planner(network, assets, reception, lift.prepositioned,
                      people_road_max_km=lift.value("network", "people_road_max_km", 500.0, rng))
    plans = plans_for(moves, planner)
    speeds = {"rail": assets["rail_military"].speed_kmh, "road": assets["road_convoy"].speed_kmh}
    rail = assets.get("rail_military")
    simulation = Simulation(plans, network, assets, reception, rail.trains_per_day if rail else 1.0, speeds)
    last_release = max((m.release_hours for m in moves), default=0.0)
    return simulation.run(last_release + until_days * 24)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    finite = np.array([v for v in values if v is not None and np.isfinite(v)])
    if len(finite) < len(values) or not len(values):
        # a stuck sample counts as 'never': percentiles above the share that closed are None
        padded = np.array([np.inf if v is None else v for v in values], dtype=float)
    else:
        padded = finite
    out = np.percentile(padded, [10, 50, 90], method="inverted_cdf") if len(padded) else [np.inf] * 3
    return {k: (None if not np.isfinite(v) else round(float(v), 2)) for k, v in zip(("p10", "p50", "p90"), out)}


@dataclass
class MovementResult:
    """The planning-value run, plus closure percentiles over samples when sampled."""

    point: Result
    samples: int
    seed: int
    sampled_closure_days: list[list[float | None]]  # per move, per sample
    start_date: Any = None  # datetime.date of hour 0, for dated output

    def movements(self) -> list[dict[str, Any]]:
        import datetime as dt

        def day(hours: float | None) -> str | None:
            if hours is None or self.start_date is None:
                return None
            return (self.start_date + dt.timedelta(hours=hours)).isoformat(timespec="hours") \
                if isinstance(self.start_date, dt.datetime) else \
                (dt.datetime.combine(self.start_date, dt.time()) + dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")

        rows = []
        for i, o in enumerate(self.point.outcomes):
            m = o.move
            closure = None if o.closure_hours is None else round(o.closure_hours / 24, 2)
            row: dict[str, Any] = {
                "id": m.id, "force": m.label, "owner": m.owner, "unit_type": m.unit_type, "personnel": m.personnel,
                "short_tons": round(m.stons, 1), "origin": m.origin, "destination": m.destination,
                "route": o.plan.route, "modes": o.plan.modes, "loads": o.loads,
                "start": day(m.release_hours), "departure": day(o.departure), "arrival": day(o.arrival),
                "ready": day(o.ready), "closure_days": closure,
                "bottleneck": o.bottleneck(), "stuck": dict(o.stuck), "action_line": m.action_line,
            }
            if m.due_hours is not None and o.ready is not None:
                row["late_days"] = round(max(0.0, o.ready - m.due_hours) / 24, 2)
            if self.samples > 1:  # closure as the range over the samples; the planning-value run kept beside it
                row["closure_days_planning"] = closure
                row["closure_days"] = _percentiles(self.sampled_closure_days[i])
            rows.append(row)
        return rows

    def utilisation(self) -> dict[str, dict[str, float]]:
        return {name: {"utilisation": round(use.utilisation(self.point.span_hours), 3), "capacity": use.capacity,
                       "peak": use.peak()}
                for name, use in sorted(self.point.resources.items()) if use.intervals}

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "seed": self.seed, "movements": self.movements(),
                "utilisation": self.utilisation(),
                "span_days": round(self.point.span_hours / 24, 2)}


def simulate(moves: Sequence[Move], lift: LiftData, *, samples: int = 1, seed: int = 0,
             until_days: float = DEFAULT_UNTIL_DAYS, progress: Callable[[int], None] | None = None,
             start_date: Any = None) -> MovementResult:
    """Plan and simulate ``moves``; with ``samples > 1`` also ``samples`` seeded draws of the uncertain figures."""
    point = run_once(moves, lift, None, until_days=until_days)
    if progress:
        progress(1)
    sampled: list[list[float | None]] = [[] for _ in moves]
    if samples > 1:
        rng = np.random.default_rng(seed)
        for _ in range(samples):
            result = run_once(moves, lift, rng, until_days=until_days)
            for i, o in enumerate(result.outcomes):
                sampled[i].append(None if o.closure_hours is None else o.closure_hours / 24)
            if progress:
                progress(1)
    return MovementResult(point, samples, seed, sampled, start_date)


def withdrawal_capacity(lift: LiftData, requirement_per_person: tuple[float, float], *, origin: str,
                        destination: str, days: float, lift_class: str = "light", unit_type: str = "support",
                        mode: str = "auto", max_personnel: int = 500_000) -> int:
    """The most people (with their cargo: ``requirement_per_person`` = (short tons, outsize C-17 loads) per
    person) who can leave ``origin`` and reach ``destination`` within ``days`` with the lift available: the
    withdrawal capacity of one phase, for the roadmap optimiser. A single move's closure never shortens with
    more people (same route, more loads), so a bisection finds it; 0 if not even one person makes it."""
    stons, outsize = requirement_per_person

    def closes(people: int) -> bool:
        move = Move(id="capacity", label=f"capacity test {people}", owner="USA", unit_type=unit_type,
                    lift_class=lift_class, personnel=people, stons=stons * people, outsize_loads=outsize * people,
                    origin=origin, destination=destination, mode=mode, inbound=False)
        outcome = run_once([move], lift, None, until_days=days + 1).outcomes[0]
        return outcome.ready is not None and outcome.ready <= days * 24 + 1e-9

    if not closes(1):
        return 0
    low, high = 1, 1
    while high < max_personnel and closes(min(high * 2, max_personnel)):
        high = min(high * 2, max_personnel)
        low = high
    if high >= max_personnel:
        return max_personnel
    high = min(high * 2, max_personnel)
    while high - low > max(1, low // 200):  # to within 0.5 %
        middle = (low + high) // 2
        if closes(middle):
            low = middle
        else:
            high = middle
    return low
