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
    coefs = coefficients(data, timeline.parameters)
    try:
        backend = resolve_backend(backend)
    except ValueError as exc:
        raise DrawdownError.single(str(exc), field="backend") from None
    days = days or contingency.days
    result = simulate(forces.axes, coefs, np.random.default_rng(seed), samples=samples, days=days,
                      warning_days=warning, progress=progress, theatre=contingency.theatre, seed=seed,
                      backend=backend, arrivals=reinforcements["arrivals"], aircraft=forces.aircraft)
    # force-ratio trajectories from a second, smaller run with the same seed (daily ratios need memory per sample)
    traced = simulate(forces.axes, coefs, np.random.default_rng(seed), samples=min(samples, TRAJECTORY_SAMPLES),
                      days=days, warning_days=warning, arrivals=reinforcements["arrivals"], record_daily=True,
                      aircraft=forces.aircraft)
    document: dict[str, Any] = {
        "scenario": scenario.name, "theatre": contingency.theatre, "samples": samples, "seed": seed,
        "date": contingency.date.isoformat(), "days": days, "warning_days": warning,
        **result.summary(),
        "defender_units": forces.defender_units,
        "defenders_bn_eq_by_country": forces.defenders_by_country,
        "attacker_units": forces.attacker_units, "attacker_bn_eq": forces.attacker_bn_eq,
        "us_aircraft": round(forces.aircraft, 1),
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
                                   warning_days=warning, backend=backend, arrivals=reinforcements["arrivals"],
                                   aircraft=forces.aircraft)
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


def _record(store: Store | None, scenario: Scenario, data: Dataset, document: dict[str, Any], engine: str,
            seed: int, parameters: dict[str, Any]) -> None:
    if store is None:
        return
    parsed = scenario.parsed
    run_id = store.begin_run(scenario=parsed.name, scenario_path=parsed.path, scenario_text=parsed.text,
                             scenario_sha256=parsed.sha256, data_version=data.version, code_version=__version__,
                             seed=seed, parameters=parameters, engine=engine)
    document["run_id"] = run_id
    store.complete_run(run_id, {}, document)


def withdrawal_lift_per_phase(data: Dataset, problem: Any) -> float:
    """People (with their units' cargo) the movement engine can fly and ship out of Europe in one phase, from
    Ramstein to the US return airfield: the roadmap's withdrawal lift limit."""
    from drawdown.movement import lift_data, withdrawal_capacity
    from drawdown.movement.requests import US_RETURN, requirement

    elements = problem.elements
    people = int(elements["personnel"].sum())
    if people == 0:
        return float("inf")
    lift = lift_data(data)
    stons = outsize = 0.0
    for row in elements.itertuples():
        s, o, _ = requirement(data, lift, str(row.unit_type), int(row.personnel))
        stons, outsize = stons + s, outsize + o
    days = float(np.median(problem.years)) * 365.25
    return float(withdrawal_capacity(lift, (stons / people, outsize / people), origin="ramstein",
                                     destination=US_RETURN["air"], days=days, lift_class="medium",
                                     max_personnel=people))


def run_roadmap(scenario: Scenario, data: Dataset, *, objective: str | None = None, seed: int = 0,
                solver: str = "highs", what_ifs: int = 3, store: Store | None = None) -> dict[str, Any]:
    """The roadmap optimiser on the scenario's end state, with up to ``what_ifs`` counterfactual re-solves;
    returns the JSON-ready document."""
    from drawdown.roadmap import build_problem, solve, what_if
    from drawdown.roadmap.report import roadmap_document

    timeline = scenario.timeline(data)
    problem = build_problem(scenario, data, timeline, seed=seed)
    if objective is not None:
        problem.objective = objective
        problem.settings["objective"] = objective
    problem.lift_per_phase = withdrawal_lift_per_phase(data, problem)
    result = solve(problem, solver=solver)
    document = {"scenario": scenario.name, "data_version": data.version, "seed": seed,
                **roadmap_document(result, data, timeline.parameters),
                "what_if": what_if(problem, result, limit=what_ifs, solver=solver) if what_ifs else []}
    _record(store, scenario, data, document, "roadmap", seed, {"objective": problem.objective})
    return document


def run_cost(scenario: Scenario, data: Dataset, *, store: Store | None = None) -> dict[str, Any]:
    """The cost model on the scenario: its `cost` buy list if it has one, and the yearly bill of the European
    forces its actions add (deploy, backfill), per nation and year against the spending lines."""
    from drawdown.cost import CostBook, cost_additions, cost_buylist, european_additions, spending_lines
    from drawdown.scenario.model import Selector
    from drawdown.scenario.timeline import resolve_nations

    timeline = scenario.timeline(data)
    parameters = timeline.parameters
    block = scenario.parsed.header.cost
    book = CostBook.from_parameters(data, parameters, base_year=block.base_year if block else None)
    document: dict[str, Any] = {"scenario": scenario.name, "data_version": data.version,
                                "base_year": book.base_year, "currency": "USD"}
    if block is not None:
        payers = resolve_nations(data, block.payers or Selector(groups=["nato_europe"]))
        holdings = timeline.holdings
        us_present = int(holdings.loc[(holdings["phase"] == 0) & (holdings["owner"] == "USA"), "personnel"].sum())
        document["buylist"] = cost_buylist(block, book, payers, parameters, us_present=us_present)
    additions, unpriced = european_additions(timeline.holdings, timeline.dates, book)
    if unpriced:
        document["unpriced_unit_types"] = unpriced  # added by the scenario but without a price in unit_costs
    years = sorted({d.year for d in timeline.dates})
    bill = cost_additions(additions, book, years) if not additions.empty else None
    if bill is not None and not bill.empty:
        lines = spending_lines(book, sorted(bill["nation"].unique()), parameters)
        by_nation: dict[str, Any] = {}
        for nation, group in bill.groupby("nation"):
            gdp = lines["nations"].get(nation, {}).get("gdp_usd_m")
            milex = lines["nations"].get(nation, {}).get("milex_usd_m")
            by_nation[nation] = {str(int(r.year)): {
                "acquisition_usd_m": round(r.acquisition_usd_m, 1), "running_usd_m": round(r.running_usd_m, 1),
                "total_usd_m": round(r.total_usd_m, 1),
                "pct_gdp": None if not gdp else round(100 * r.total_usd_m / gdp, 4),
                "spending_pct_gdp": None if not gdp or milex is None else round(100 * (milex + r.total_usd_m) / gdp, 3)}
                for r in group.itertuples()}
        document["additions"] = {
            "units": [{"nation": r.nation, "unit_type": r.unit_type, "year": int(r.year), "units": round(r.units, 3)}
                      for r in additions.itertuples()],
            "by_nation_year": by_nation,
            "total_usd_m": round(float(bill["total_usd_m"].sum()), 1),
            "lines": {"low_pct": lines["line_low_pct"], "core_pct": lines["line_core_pct"]},
        }
    _record(store, scenario, data, document, "cost", 0, {})
    return document


def run_sensitivity(store: Store, run_id: str, data: Dataset | None = None) -> dict[str, Any]:
    """Sensitivity of a stored sweep (by run id, or by its spec file: the sweep that spec makes on this data)."""
    from pathlib import Path

    from drawdown.sweep import sensitivity

    if Path(run_id).is_file() and data is not None:
        from dataclasses import replace

        from drawdown.sweep import load_spec

        run_id = replace(load_spec(run_id), data_version=data.version).sweep_id

    from ruamel.yaml import YAML

    from drawdown.sweep.spec import SweepModel

    run = store.get_run(run_id)
    if run.get("engine") != "sweep":
        raise DrawdownError.single(f"run {run['run_id']} is a {run.get('engine')} run, not a sweep",
                                   suggestion="pass a sweep's run id (drawdown runs list)")
    spec = SweepModel.model_validate(YAML(typ="safe").load(run["scenario_text"]))  # the spec as it was run
    points = store.sweep_points(run["run_id"])
    if points.empty:
        raise DrawdownError.single(f"sweep {run['run_id']} has no points stored yet",
                                   suggestion="run (or resume) it with drawdown sweep SPEC")
    n = int((points["block"] == "A").sum()) if spec.method == "sobol" else None
    document = sensitivity(points, spec.method, [p.path for p in spec.parameters], list(spec.outputs), n=n)
    document.update({"sweep_id": run["run_id"], "points": int(len(points)), "complete": run.get("status") == "complete"})
    return document


def build_report_document(target: str, data: Dataset, *, store: Store | None = None,
                          samples: int = 5000, progress: Callable[[str], None] | None = None) -> str:
    """The HTML report for a scenario file or a stored run: the posture timeline, and every engine the scenario
    gives work to (campaign with a contingency; roadmap with withdrawals, reductions or a roadmap block;
    movement with moves; cost with a buy list or additions). A stored run's own document is reused."""
    from pathlib import Path

    from drawdown.report import build_report
    from drawdown.scenario import load_scenario, scenario_from_text
    from drawdown.scenario.model import Reduce, Withdraw

    stored: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = None
    if Path(target).is_file():
        scenario = load_scenario(target)
    else:
        if store is None:
            raise DrawdownError.single(f"'{target}' is neither a scenario file nor, without a store, a run id")
        stored = store.get_run(target)
        if stored.get("engine") == "sweep":  # the base scenario's report, with the sweep's tornados
            from ruamel.yaml import YAML

            from drawdown.sweep.spec import SweepModel

            spec = SweepModel.model_validate(YAML(typ="safe").load(stored["scenario_text"]))
            base = (Path(stored.get("scenario_path") or ".").parent / spec.base)
            if not base.is_file():
                raise DrawdownError.single(f"the sweep's base scenario {base} is not there any more",
                                           suggestion="run the report from the folder the sweep was run from")
            scenario = load_scenario(base)
            import hashlib

            import scipy

            identity = "\n".join([stored["scenario_text"], base.read_text(), data.version, __version__,
                                  scipy.__version__])
            if not stored["run_id"].endswith(hashlib.sha256(identity.encode()).hexdigest()[:10]):
                raise DrawdownError.single(
                    f"the base scenario {base}, the data or drawdown changed since sweep {stored['run_id']} ran: a "
                    "report would mix today's posture with the sweep's results",
                    suggestion="run the sweep again (drawdown sweep SPEC) and report the new one")
            sweep = run_sensitivity(store, stored["run_id"])
        else:
            scenario = scenario_from_text(stored["scenario_text"], stored.get("scenario_path") or "<stored run>")
    engine = stored.get("engine") if stored else None
    reuse = (stored or {}).get("document") if stored and stored.get("status") == "complete" else None

    def step(name: str) -> None:
        if progress:
            progress(name)

    step("posture")
    result = scenario.run(data)
    run = result.to_dict()
    holdings = result.timeline.holdings
    us = holdings[holdings["owner"] == "USA"]
    for k, phase in enumerate(run["phases"]):
        by_site = us[us["phase"] == k].groupby("site")["personnel"].sum()
        phase["us_personnel_by_site"] = {s: int(n) for s, n in by_site.items() if s and n > 0}
    header = scenario.parsed.header
    run["provenance"] = [p.model_dump(mode="json") for p in header.provenance]
    documents: dict[str, Any] = {}
    if header.contingency is not None:
        step("campaign")
        try:
            documents["campaign"] = (reuse if engine == "campaign" and reuse
                                     else run_campaign(scenario, data, samples=samples))
        except DrawdownError:
            documents["campaign"] = None  # e.g. no attacking force then: the report leaves the section out
    if header.roadmap is not None or any(isinstance(pa.action, (Withdraw, Reduce)) for pa in scenario.parsed.actions):
        step("roadmap")
        documents["roadmap"] = reuse if engine == "roadmap" and reuse else run_roadmap(scenario, data, what_ifs=2)
    step("movement")
    try:
        documents["movement"] = reuse if engine == "movement" and reuse else run_movement(scenario, data)
    except DrawdownError:
        documents["movement"] = None  # nothing the movement engine can route: the report leaves it out
    step("cost")
    documents["cost"] = reuse if engine == "cost" and reuse else run_cost(scenario, data)
    elements = data.force_elements.set_index("id")
    sources = {str(elements.at[e, "source"]) for e in holdings["element_id"].unique()
               if e in elements.index and "source" in elements.columns}
    sources |= set(data.tables["unit_types"]["source"]) | set(data.tables["sites"]["source"])

    def cite(*tables: str) -> set[str]:
        return {str(x) for t in tables if t in data.tables for c in data.tables[t].columns
                if c == "source" for x in data.tables[t][c].dropna()}

    if documents.get("campaign") or documents.get("roadmap"):  # the deterrence requirement runs the campaign model
        sources |= cite("campaign_coefficients", "adversary_forces", "axes", "axis_segments", "theatres",
                        "national_forces")
    if documents.get("roadmap"):
        sources |= cite("force_options", "unit_recipes", "production_rates", "unit_costs", "deflators", "nations")
    if documents.get("movement"):
        sources |= cite("lift_assets", "lift_parameters", "lift_nodes", "lift_links", "unit_lift", "prepositioned")
    if documents.get("cost"):
        sources |= cite("equipment_costs", "unit_costs", "deflators", "nations")
    step("page")
    return build_report(run, data, campaign=documents.get("campaign"), movement=documents.get("movement"),
                        roadmap=documents.get("roadmap"), cost=documents.get("cost"), sources=sorted(sources),
                        sensitivity=sweep)


def run_evidence(targets: list[str], data: Dataset, *, check: bool = False, store: Store | None = None,
                 outlet: str | None = None, date: Any = None,
                 progress: Any = None) -> tuple[list[Any], dict[str, Any]]:
    """Read articles, extract their claims (and check them), record them in the store; returns the results and
    the JSON document of ``drawdown evidence extract/check``."""
    from drawdown import evidence

    results = evidence.extract(targets, data, outlet=outlet, date=date, progress=progress)
    checked = evidence.check(results, data) if check else None
    document = evidence.document(results, checked)
    if store is not None:
        store.add_articles(document["articles"], data_version=data.version, code_version=__version__)
        document["store"] = str(store.path)
    return results, document
