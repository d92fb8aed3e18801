"""Run scenarios and record them: the one place that ties engines to the store.

The CLI and the web call these functions; they never compute themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from drawdown import __version__
from drawdown.campaign import ratio_trajectories, required_defenders, resolve_backend, simulate
from drawdown.campaign.forces import coefficients, theatre_forces
from drawdown.errors import DrawdownError, Location, ScenarioError, did_you_mean
from drawdown.data import Dataset
from drawdown.scenario import RunResult, Scenario
from drawdown.store import Store


#: Samples behind the force-ratio trajectories (a separate run with the same seed, to bound memory).
TRAJECTORY_SAMPLES = 2000


def run_scenario(scenario: Scenario, data: Dataset, *, seed: int = 0, store: Store | None = None) -> RunResult:
    """Run one scenario; with a store, record it (begin → compute → complete in one transaction)."""
    if store is None:
        return scenario.run(data, seed=seed)
    parsed = scenario.parsed
    run_id = store.begin_run(
        scenario=parsed.name, scenario_path=parsed.path, scenario_text=parsed.text,
        scenario_sha256=parsed.sha256, data_version=data.version, code_version=__version__, seed=seed,
        parameters={},
    )
    try:
        result = scenario.run(data, seed=seed)
        result.run_id = run_id
        timeline = result.timeline
        store.complete_run(
            run_id,
            {"posture": timeline.holdings, "withdrawals": timeline.withdrawals, "events": timeline.events},
            result.to_dict(),
        )
    except BaseException as exc:
        try:
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        except Exception:  # the store itself is the problem; the original error matters more
            pass
        raise
    return result


def run_campaign(scenario: Scenario, data: Dataset, *, samples: int = 10_000, seed: int = 0, days: int | None = None,
                 progress: Callable[[int], None] | None = None, require: dict[str, Any] | None = None,
                 store: Store | None = None, backend: str = "auto") -> dict[str, Any]:
    """Run the scenario's `contingency` through the campaign engine; with ``require`` ({hold_days, probability,
    unit_type}) also search for the smallest reinforcement that holds. Returns the JSON-ready document."""
    contingency = scenario.parsed.header.contingency
    if contingency is None:
        raise ScenarioError.single("the scenario has no contingency block", Location(scenario.parsed.path, 1, 1),
                                   suggestion="add contingency: {theatre: baltic, date: YYYY-MM-DD}")
    timeline = scenario.timeline(data)
    posture = None
    if contingency.defenders is None:
        phase = max(i for i, d in enumerate(timeline.dates) if d <= contingency.date)
        posture = timeline.at(phase)
    forces = theatre_forces(data, contingency, posture)
    outside = sorted(set(contingency.add_defenders or {}) - set(forces.defenders_by_country))
    if outside:
        raise ScenarioError.single(
            f"add_defenders names {', '.join(outside)}, which defend no axis of {contingency.theatre}",
            scenario.parsed.locate(("contingency", "add_defenders")), field="contingency.add_defenders",
            suggestion="defending nations: " + ", ".join(forces.defenders_by_country))
    if not any(a.attackers_bn_eq > 0 for a in forces.axes):
        raise ScenarioError.single(
            f"no attacking force on any axis of {contingency.theatre} (no axes in the data, no adversary forces "
            "valid then, or attacker_presence 0)", scenario.parsed.locate(("contingency", "theatre")),
            field="contingency.theatre")
    warning = contingency.warning_days
    if warning is None:
        warning = float(timeline.parameters.get(f"campaign.{contingency.theatre}.warning_days", 7))
    reinforcements = _reinforcements(scenario, data, contingency, warning, forces.axes)
    coefs = coefficients(data)
    try:
        backend = resolve_backend(backend)
    except ValueError as exc:
        raise DrawdownError.single(str(exc), field="backend") from None
    days = days or contingency.days
    result = simulate(forces.axes, coefs, np.random.default_rng(seed), samples=samples, days=days,
                      warning_days=warning, progress=progress, theatre=contingency.theatre, seed=seed,
                      backend=backend, arrivals=reinforcements["arrivals"])
    # force-ratio trajectories from a second, smaller run with the same seed (daily ratios need memory per sample)
    traced = simulate(forces.axes, coefs, np.random.default_rng(seed), samples=min(samples, TRAJECTORY_SAMPLES),
                      days=days, warning_days=warning, arrivals=reinforcements["arrivals"], record_daily=True)
    document: dict[str, Any] = {
        "scenario": scenario.name, "theatre": contingency.theatre, "samples": samples, "seed": seed,
        "date": contingency.date.isoformat(), "days": days, "warning_days": warning,
        **result.summary(),
        "defender_units": forces.defender_units,
        "defenders_bn_eq_by_country": forces.defenders_by_country,
        "attacker_units": forces.attacker_units, "attacker_bn_eq": forces.attacker_bn_eq,
        "axes": [{"id": a.id, "objective": a.objective, "length_km": a.length_km,
                  "defenders_bn_eq": round(a.defenders_bn_eq, 3), "attackers_bn_eq": round(a.attackers_bn_eq, 3)}
                 for a in forces.axes],
        "data_version": data.version, "backend": backend,
        "reinforcements": reinforcements["listed"],
        "force_ratio_by_day": ratio_trajectories(traced),
        "force_ratio_samples": traced.samples,
    }
    if require:
        unit_type = str(require["unit_type"])
        types = data.unit_types.set_index("id")
        if unit_type not in types.index or types.at[unit_type, "power_unit"] != "bn_eq":
            raise DrawdownError.single(f"'{unit_type}' is not a manoeuvre unit type",
                                       suggestion=did_you_mean(unit_type, types.index) or "e.g. armd_bn, mech_bde")
        units = required_defenders(forces.axes, coefs, seed, hold_days=float(require["hold_days"]),
                                   probability=float(require["probability"]),
                                   unit_power=float(types.at[unit_type, "power"]), samples=min(samples, 4000),
                                   warning_days=warning, backend=backend, arrivals=reinforcements["arrivals"])
        document["requirement"] = {**require, "additional_units": units,
                                   "additional_bn_eq": None if units is None else units * float(types.at[unit_type, "power"])}
    if store is not None:
        parsed = scenario.parsed
        run_id = store.begin_run(scenario=parsed.name, scenario_path=parsed.path, scenario_text=parsed.text,
                                 scenario_sha256=parsed.sha256, data_version=data.version, code_version=__version__,
                                 seed=seed, parameters={}, engine="campaign")
        document["run_id"] = run_id
        store.complete_run(run_id, {}, document)
    return document


def _reinforcements(scenario: Scenario, data: Dataset, contingency: Any, warning: float,
                    axes: list[Any]) -> dict[str, Any]:
    """Units arriving during the campaign: the contingency's table, plus (with ``alerted_forces``) the scenario's
    alerts bound for the theatre, ordered when warning comes and timed by the movement engine."""
    from drawdown.campaign.forces import arrivals

    units: list[dict[str, Any]] = []
    for i, r in enumerate(contingency.reinforcements):
        units.append({"who": r.who, "unit_type": r.unit_type, "count": r.count, "to": r.to, "hour": r.day * 24,
                      "source": f"contingency.reinforcements[{i}]"})
    if contingency.alerted_forces:
        from drawdown.movement import lift_data, simulate
        from drawdown.movement.requests import alert_moves, overrides_from_scenario

        lift = lift_data(data)
        overrides = overrides_from_scenario(scenario)
        lift = lift.with_overrides(overrides) if overrides else lift
        theatre = data.tables["theatres"].set_index("id").loc[contingency.theatre]
        countries = frozenset(str(theatre["countries"]).split(";"))
        order = contingency.date - dt.timedelta(days=warning)
        moves = alert_moves(scenario, data, lift, max(order, scenario.parsed.header.start), countries)
        types = data.unit_types.set_index("id")
        if moves:
            result = simulate(moves, lift, start_date=scenario.parsed.header.start)
            attack = (contingency.date - scenario.parsed.header.start).days * 24.0
            for o in result.point.outcomes:
                m = o.move
                country = lift.network.nodes[m.destination].country
                hour = None if o.ready is None else max(0.0, o.ready - attack)
                units.append({"who": m.owner, "unit_type": m.unit_type, "to": country,
                              "count": m.personnel / float(types.at[m.unit_type, "personnel"]),
                              "hour": hour, "source": f"alert, line {m.action_line} ({m.label})"})
    late = [u for u in units if u["hour"] is None]
    usable = [u for u in units if u["hour"] is not None]
    found, missing = arrivals(data, contingency.theatre, usable)
    if missing:
        raise ScenarioError.single(
            f"reinforcements for {', '.join(sorted(set(missing)))}, which defend no axis of {contingency.theatre}",
            scenario.parsed.locate(("contingency", "reinforcements")), field="contingency.reinforcements",
            suggestion="send them to a nation that defends an axis of the theatre")
    listed = [{**{k: u[k] for k in ("who", "unit_type", "to", "source")}, "count": round(float(u["count"]), 3),
               "day": None if u["hour"] is None else round(u["hour"] / 24, 2)} for u in usable + late]
    return {"arrivals": found, "listed": listed}


def run_movement(scenario: Scenario, data: Dataset, *, samples: int = 1, seed: int = 0,
                 progress: Callable[[int], None] | None = None, store: Store | None = None) -> dict[str, Any]:
    """Every move of the scenario through the movement engine; returns the JSON-ready document."""
    from drawdown.movement import NoRoute, lift_data, simulate
    from drawdown.movement.requests import moves_from_scenario, overrides_from_scenario

    lift = lift_data(data)
    overrides = overrides_from_scenario(scenario)
    if overrides:
        lift = lift.with_overrides(overrides)
    timeline = scenario.timeline(data)
    moves = moves_from_scenario(scenario, data, lift, timeline)
    try:
        result = simulate(moves, lift, samples=samples, seed=seed, progress=progress,
                          start_date=scenario.parsed.header.start)
    except NoRoute as exc:
        line = exc.move.action_line or 1
        raise ScenarioError.single(f"no feasible route: {exc}", Location(scenario.parsed.path, line, 1),
                                   suggestion="name another origin or destination, or another mode") from None
    document: dict[str, Any] = {"scenario": scenario.name, **result.to_dict(), "lift_overrides": overrides,
                                "data_version": data.version}
    if store is not None:
        parsed = scenario.parsed
        run_id = store.begin_run(scenario=parsed.name, scenario_path=parsed.path, scenario_text=parsed.text,
                                 scenario_sha256=parsed.sha256, data_version=data.version, code_version=__version__,
                                 seed=seed, parameters={"samples": samples, **overrides}, engine="movement")
        document["run_id"] = run_id
        store.complete_run(run_id, {}, document)
    return document
