"""Campaign engine: a Monte Carlo model of a short-warning attack along a theatre's axes of advance.

Pure computation: it takes the forces on each axis (combat power in battalion-equivalents), the axes, the
coefficient distributions and a ``numpy.random.Generator``, and returns time-to-objective distributions. It reads
no files and prints nothing. Equations: ``docs/models/campaign.md``; calibration and checks:
``docs/validation.md``.

Per sample and axis, hour by hour:

* normalised force ratio  rho = A / (D * theta), theta the force ratio a defence of this posture withstands
  (planning ratios: 2.5 hasty, 3 prepared, interpolated by warning days);
* advance  v = v_max / (1 + rho^-k), v_max = march speed * movement efficiency;
* attrition (per hour) defender  D *= 1 - min(l_D * rho, cap_D) / 24, attacker A = A (1 - min(l_A / rho, cap_A) / 24) - air(t)
  (battalion-equivalents destroyed by NATO air sorties this hour on this axis, see ``air_rates``).

Everything is vectorised over samples with NumPy and processed in chunks to bound memory. Backends: ``numpy``
(the reference, always available) and ``numba`` (compiled, one sample per thread, same draws, results equal to
float rounding); ``auto`` picks Numba when it is installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

BACKENDS = ("auto", "numpy", "numba")

DAYS_REPORTED = (1, 3, 7, 14, 28)
#: Defender power never falls below this floor (a remnant always delays a little); avoids division by zero.
DEFENDER_FLOOR = 0.05


#: Terrain classes of axis segments (``axis_segments.csv``); coefficients terrain_advance_* / terrain_defence_*.
TERRAIN = ("open", "mixed", "forest", "urban", "river")


@dataclass(frozen=True)
class Axis:
    id: str
    objective: str
    length_km: float
    defenders_bn_eq: float
    attackers_bn_eq: float
    #: (length_km, terrain class) in order from the start line; empty = one segment with neutral terrain
    segments: tuple[tuple[float, str], ...] = ()


def _segment_tables(axes: list[Axis]) -> tuple[np.ndarray, np.ndarray]:
    """(axes, S) cumulative segment ends (km) and terrain class index (-1 = neutral), padded with the last
    segment; S is the largest number of segments."""
    longest = max([len(a.segments) for a in axes] + [1])
    ends = np.zeros((len(axes), longest))
    cls = np.full((len(axes), longest), -1, dtype=np.int64)
    for j, axis in enumerate(axes):
        if not axis.segments:
            ends[j, :] = np.inf
            continue
        total = 0.0
        for i, (km, terrain) in enumerate(axis.segments):
            total += km
            ends[j, i] = total
            cls[j, i] = TERRAIN.index(terrain)
        ends[j, len(axis.segments) - 1:] = np.inf  # the last segment runs on past the objective
        cls[j, len(axis.segments):] = cls[j, len(axis.segments) - 1]
    return ends, cls


def _terrain_draws(draw: dict[str, np.ndarray], kind: str, n: int) -> np.ndarray:
    """(n, classes + 1) factor per sample and terrain class; the last column (index -1) is neutral (1.0)."""
    out = np.ones((n, len(TERRAIN) + 1))
    for c, terrain in enumerate(TERRAIN):
        values = draw.get(f"terrain_{kind}_{terrain}")
        if values is not None:
            out[:, c] = values[:, 0]
    return out


@dataclass(frozen=True)
class Coefficient:
    """An uncertain quantity: a distribution with its source."""

    name: str
    distribution: str
    low: float
    high: float
    source: str

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.distribution == "fixed" or self.low == self.high:
            return np.full(n, self.low)
        return rng.uniform(self.low, self.high, n)


@dataclass
class CampaignResult:
    theatre: str
    samples: int
    seed: int
    hours: int
    axes: list[Axis]
    time_to_objective: np.ndarray  # (samples, axes) hours; inf where the objective holds to the end
    final_ratio: np.ndarray  # (samples, axes)
    defender_losses: np.ndarray  # (samples, axes) fraction of initial power lost
    attacker_losses: np.ndarray
    warning_days: float
    extra: dict[str, Any] = field(default_factory=dict)

    def first_objective_hours(self) -> np.ndarray:
        """Hours until the first objective falls, per sample (inf if none falls)."""
        active = [i for i, axis in enumerate(self.axes) if axis.attackers_bn_eq > 0]
        return self.time_to_objective[:, active].min(axis=1) if active else np.full(self.samples, np.inf)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time_to_objective_hours": {}, "prob_objective_by_day": {}}
        for i, axis in enumerate(self.axes):
            if axis.attackers_bn_eq <= 0:
                continue
            hours = self.time_to_objective[:, i]
            out["time_to_objective_hours"][axis.objective] = _percentiles(hours)
            out["prob_objective_by_day"][axis.objective] = {
                str(d): float(np.mean(hours <= d * 24)) for d in DAYS_REPORTED if d * 24 <= self.hours
            }
        first = self.first_objective_hours()
        out["first_objective_hours"] = _percentiles(first)
        out["losses"] = {
            axis.objective: {"defender": float(np.median(self.defender_losses[:, i])),
                             "attacker": float(np.median(self.attacker_losses[:, i]))}
            for i, axis in enumerate(self.axes) if axis.attackers_bn_eq > 0
        }
        return out

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.time_to_objective, columns=[a.objective for a in self.axes])
        frame.index.name = "sample"
        return frame


def _percentiles(hours: np.ndarray) -> dict[str, float | None]:
    """p10/p50/p90 as sample values (no interpolation, so a percentile is never a mix of a time and 'holds')."""
    values = np.percentile(hours, [10, 50, 90], method="inverted_cdf")
    return {k: (None if not np.isfinite(v) else round(float(v), 1)) for k, v in zip(("p10", "p50", "p90"), values)}


def posture_ratio(warning_days: float, coefficients: dict[str, Coefficient]) -> float:
    """Force ratio the defence withstands: hasty at no warning, prepared after ``prepared_defence_days``."""
    hasty = coefficients["posture_hasty"].low
    prepared = coefficients["posture_prepared"].low
    days = coefficients["prepared_defence_days"].low
    return hasty + (prepared - hasty) * min(1.0, max(warning_days, 0.0) / days)


def air_rates(draw: dict[str, np.ndarray], aircraft: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NATO air power as sorties, per sample: battalion-equivalents of the attacking force destroyed per hour
    across the theatre while the adversary's air defences are intact, and after they are suppressed, and the
    hour suppression ends.

    ``kills/hour = N * s * g * k * (1 - r) / (V * 24)``: N aircraft (``aircraft`` from the posture plus the drawn
    allied ones), s sorties per aircraft a day, g the share flown against ground forces, k armoured vehicles
    destroyed per such sortie, V vehicles per battalion-equivalent, r the share of the effect lost to air
    defence (before / after suppression, which takes ``air_sead_days``)."""
    n = (aircraft + draw["air_allied_aircraft"]) * draw["air_sorties_per_aircraft_day"]
    kills = n * draw["air_ground_attack_share"] * draw["air_kills_per_sortie"] / draw["air_vehicles_per_bn_eq"] / 24
    before = kills * (1.0 - draw["air_effect_lost_before_sead"])
    after = kills * (1.0 - draw["air_effect_lost_after_sead"])
    return before, after, draw["air_sead_days"] * 24


def resolve_backend(backend: str) -> str:
    """The backend ``simulate`` will use: ``auto`` means Numba if it can be imported, else NumPy."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown campaign backend '{backend}' (choose from {', '.join(BACKENDS)})")
    if backend == "numpy":
        return backend
    try:
        importlib.import_module("drawdown.campaign.kernels")
    except ImportError:
        if backend == "numba":
            raise ValueError("backend 'numba' needs the numba package: pip install 'drawdown[fast]'") from None
        return "numpy"
    return "numba"


def simulate(axes: list[Axis], coefficients: dict[str, Coefficient], rng: np.random.Generator, *,
             samples: int, days: int = 28, warning_days: float = 7.0, chunk: int = 20_000,
             progress: Callable[[int], None] | None = None, theatre: str = "", seed: int = 0,
             backend: str = "auto", arrivals: list[Arrival] | None = None,
             record_daily: bool = False, aircraft: float = 0.0) -> CampaignResult:
    """Run ``samples`` Monte Carlo draws of the campaign along ``axes`` for ``days`` days (hourly steps).

    ``arrivals``: reinforcements joining an axis at a given hour (at hour 0 they are there from the start);
    an axis whose objective has fallen takes no more. ``record_daily`` (NumPy backend) keeps each sample's
    normalised force ratio at the end of every day (NaN once the objective has fallen) in
    ``extra["daily_ratio"]`` (samples, days + 1, axes). ``aircraft``: NATO combat aircraft the posture
    commits to the theatre (the US ones in Europe); the allied ones are a drawn coefficient (see
    :func:`air_rates`)."""
    backend = "numpy" if record_daily else resolve_backend(backend)
    hours = days * 24
    n_axes = len(axes)
    length = np.array([a.length_km for a in axes], dtype=float)
    incoming = arrival_table(arrivals or [], n_axes, hours)
    d0 = np.maximum(np.array([a.defenders_bn_eq for a in axes]) + incoming[0], DEFENDER_FLOOR)
    a0 = np.array([a.attackers_bn_eq for a in axes], dtype=float)
    air_w = a0 / a0.sum() if a0.sum() > 0 else np.zeros(n_axes)  # air strikes follow the weight of the attack
    theta = posture_ratio(warning_days, coefficients)
    late = incoming.any(axis=1)
    seg_ends, seg_cls = _segment_tables(axes)

    out_time = np.empty((samples, n_axes))
    out_ratio = np.empty((samples, n_axes))
    out_dloss = np.empty((samples, n_axes))
    out_aloss = np.empty((samples, n_axes))
    daily = np.full((samples, days + 1, n_axes), np.nan) if record_daily else None
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        draw = {name: c.sample(rng, n)[:, None] for name, c in sorted(coefficients.items())}
        v_max = draw["march_speed_kmh"] * draw["movement_efficiency"]
        k = draw["advance_steepness"]
        l_d, l_a = draw["defender_loss_per_day"] / 24, draw["attacker_loss_per_day"] / 24
        cap_d, cap_a = draw["defender_loss_cap"] / 24, draw["attacker_loss_cap"] / 24
        air_before, air_after, sead_hours = air_rates(draw, aircraft)
        bp_a = draw["attacker_breakpoint_loss"] if "attacker_breakpoint_loss" in draw else np.full((n, 1), 2.0)
        bp_d = draw["defender_breakpoint_loss"] if "defender_breakpoint_loss" in draw else np.full((n, 1), 2.0)
        adv, dfn = _terrain_draws(draw, "advance", n), _terrain_draws(draw, "defence", n)
        # the planning ratios (theta) are averages over the terrain of the battles behind them: defence terrain
        # enters relative to mixed terrain, so that only better or worse ground than the average shifts the ratio
        dfn[:, :-1] /= dfn[:, [TERRAIN.index("mixed")]]  # the last column (no terrain given) stays neutral
        sl = slice(done, done + n)
        if backend == "numba":
            from drawdown.campaign import kernels

            kernels.run_chunk(length, d0, a0, float(theta), *(np.ascontiguousarray(x[:, 0]) for x in
                              (v_max, k, l_d, l_a, cap_d, cap_a, air_before, air_after, sead_hours, bp_a, bp_d)),
                              air_w, hours, incoming, seg_ends, seg_cls, adv, dfn,
                              out_time[sl], out_ratio[sl], out_dloss[sl], out_aloss[sl])
            done += n
            if progress:
                progress(n)
            continue
        attackers = np.broadcast_to(a0, (n, n_axes)).copy()
        defenders = np.broadcast_to(d0, (n, n_axes)).copy()
        position = np.zeros((n, n_axes))
        reached = np.full((n, n_axes), np.inf)
        attacked = a0 > 0
        received = np.broadcast_to(d0, (n, n_axes)).copy()  # initial power plus reinforcements taken in
        halted = np.zeros((n, n_axes), dtype=bool)  # the attack on this axis has broken off (its breakpoint)
        broken = np.zeros((n, n_axes), dtype=bool)  # the defence on this axis has broken (its breakpoint)
        rows = np.arange(n)
        adv_now, dfn_now = np.ones((n, n_axes)), np.ones((n, n_axes))

        def terrain_here() -> None:
            for j in range(n_axes):
                seg = np.minimum(np.searchsorted(seg_ends[j], position[:, j], side="right"), seg_ends.shape[1] - 1)
                cls = seg_cls[j][seg]
                adv_now[:, j] = adv[rows, cls]
                dfn_now[:, j] = dfn[rows, cls]

        terrain_here()
        if daily is not None:
            daily[sl, 0] = np.where(attacked, attackers / (defenders * theta * dfn_now), np.nan)
        for hour in range(1, hours + 1):
            # an axis freezes once its objective has fallen or its attack has broken off
            fighting = ~np.isfinite(reached) & attacked & ~halted
            if late[hour]:
                joined = np.where(fighting, incoming[hour], 0.0)
                defenders += joined
                received += joined
            rho = attackers / (np.maximum(defenders, DEFENDER_FLOOR) * theta * dfn_now)
            speed = v_max * adv_now / (1.0 + np.exp(-k * np.log(np.maximum(rho, 1e-9))))  # rho^-k
            position += np.where(fighting, speed, 0.0)
            newly = fighting & (position >= length)
            reached[newly] = hour
            defenders *= np.where(fighting, 1.0 - np.minimum(l_d * rho, cap_d), 1.0)
            air_now = np.where(hour <= sead_hours, air_before, air_after) * air_w  # bn_eq this hour, per axis
            attackers = np.where(fighting, np.maximum(
                attackers * (1.0 - np.minimum(l_a / np.maximum(rho, 1e-9), cap_a)) - air_now, 0.0), attackers)
            # breakpoints: a defence that has lost its breakpoint share gives way (a remnant delays); an attack
            # that has lost its breakpoint share breaks off and the objective holds
            collapse = fighting & ~newly & ~broken & (1.0 - defenders / received >= bp_d)
            broken |= collapse
            defenders = np.where(collapse, np.minimum(defenders, DEFENDER_FLOOR), defenders)
            with np.errstate(invalid="ignore", divide="ignore"):
                halted |= fighting & ~newly & (1.0 - attackers / np.where(a0 > 0, a0, 1.0) >= bp_a)
            terrain_here()
            if daily is not None and hour % 24 == 0:
                holding = attacked & ~np.isfinite(reached)
                daily[sl, hour // 24] = np.where(
                    holding, attackers / (np.maximum(defenders, DEFENDER_FLOOR) * theta * dfn_now), np.nan)
            if not fighting.any():
                break
        rho_end = attackers / (np.maximum(defenders, DEFENDER_FLOOR) * theta * dfn_now)
        out_time[sl], out_ratio[sl] = reached, rho_end
        out_dloss[sl] = 1.0 - defenders / received
        with np.errstate(invalid="ignore", divide="ignore"):
            out_aloss[sl] = np.where(a0 > 0, 1.0 - attackers / np.where(a0 > 0, a0, 1.0), 0.0)
        done += n
        if progress:
            progress(n)
    return CampaignResult(theatre, samples, seed, hours, axes, out_time, out_ratio, out_dloss, out_aloss,
                          warning_days, extra={"backend": backend, **({"daily_ratio": daily} if record_daily else {})})


@dataclass(frozen=True)
class Arrival:
    """Reinforcements (bn_eq) joining axis ``axis`` (index) at ``hour`` after the attack starts."""

    hour: float
    axis: int
    bn_eq: float
    label: str = ""


def arrival_table(arrivals: list[Arrival], n_axes: int, hours: int) -> np.ndarray:
    """(hours + 1, axes) power joining each axis at each hour; an arrival between steps counts at the next."""
    table = np.zeros((hours + 1, n_axes))
    for a in arrivals:
        hour = int(np.ceil(max(a.hour, 0.0) - 1e-9))
        if hour <= hours:
            table[hour, a.axis] += a.bn_eq
    return table


def ratio_trajectories(result: CampaignResult) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per objective and day: p10/p50/p90 of the normalised force ratio over the samples where it still holds,
    and the share of samples where it has fallen (from a run with ``record_daily``)."""
    daily = result.extra["daily_ratio"]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for j, axis in enumerate(result.axes):
        if axis.attackers_bn_eq <= 0:
            continue
        days: dict[str, dict[str, float | None]] = {}
        for d in range(daily.shape[1]):
            values = daily[:, d, j]
            alive = values[np.isfinite(values)]
            q = np.percentile(alive, [10, 50, 90]) if len(alive) else [None] * 3
            days[str(d)] = {"p10": None if q[0] is None else round(float(q[0]), 3),
                            "p50": None if q[1] is None else round(float(q[1]), 3),
                            "p90": None if q[2] is None else round(float(q[2]), 3),
                            "fallen": round(1.0 - len(alive) / len(values), 4)}
        out[axis.objective] = days
    return out


def holds(result: CampaignResult, hold_days: float) -> np.ndarray:
    """Per sample: no objective falls within ``hold_days``."""
    return result.first_objective_hours() > hold_days * 24


def required_defenders(axes: list[Axis], coefficients: dict[str, Coefficient], seed: int, *, hold_days: float,
                       probability: float, unit_power: float, samples: int, warning_days: float,
                       max_units: int = 400, backend: str = "auto",
                       arrivals: list[Arrival] | None = None, aircraft: float = 0.0) -> int | None:
    """Smallest number of extra units (each ``unit_power`` bn_eq, spread over the axes in proportion to the
    attack on them) that holds every objective for ``hold_days`` with ``probability``.

    Common random numbers (the same seed for every candidate) make the result monotone in the number of units,
    so a bisection finds the smallest; None if even ``max_units`` do not suffice."""
    weights = np.array([a.attackers_bn_eq for a in axes], dtype=float)
    weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(axes), 1.0 / len(axes))
    days = int(np.ceil(hold_days))

    def ok(units: int) -> bool:
        reinforced = [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq + units * unit_power * w,
                           a.attackers_bn_eq) for a, w in zip(axes, weights)]
        result = simulate(reinforced, coefficients, np.random.default_rng(seed), samples=samples, days=days,
                          warning_days=warning_days, backend=backend, arrivals=arrivals, aircraft=aircraft)
        return float(np.mean(holds(result, hold_days))) >= probability

    if ok(0):
        return 0
    if not ok(max_units):
        return None
    low, high = 0, max_units
    while high - low > 1:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle
    return high
