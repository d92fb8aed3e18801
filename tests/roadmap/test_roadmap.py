"""The roadmap optimiser: constraints checked without the solver, brute force on small cases, monotonicity
of the optimum under tightening, infeasibility explained, and the bundled scenarios."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drawdown.roadmap import Ceiling, Problem, Solution, _run, check, evaluate, phase_years, solve
from drawdown.roadmap.model import build_model
from drawdown.roadmap.problem import CAPABILITIES


def tiny(*, phases: int = 5, elements: int = 2, nations: int = 1, floor: float = 6.0, headroom: float = 1e4,
         capacity: float = 10.0, lead: int = 1, deadline: int = 3, capability: float = 0.0, recruits: float = 1e5,
         lift: float = float("inf"), objective: str = "cost", acquisition: float = 100.0, annual: float = 10.0,
         ceilings: list[Ceiling] | None = None) -> Problem:
    """A small problem built by hand: ``elements`` US battalions (2 bn_eq each, one theatre) that must leave by
    ``deadline``, and one European option (3 bn_eq, ``acquisition`` + ``annual``) that ``nations`` may add."""
    dates = [dt.date(2026 + k // 4, 1 + 3 * (k % 4), 1) for k in range(phases)]
    ids = [f"e{i}" for i in range(elements)]
    frame = pd.DataFrame({"country": "LTU", "unit_type": "mech_bn", "category": "manoeuvre",
                          "personnel": [1000 + 100 * i for i in range(elements)], "power": 2.0, "bn_eq": 2.0,
                          "measure": 2.0, "earliest": 0, "deadline": deadline, "line": 1}, index=ids)
    cats = list(CAPABILITIES)
    target = pd.Series(0.0, index=cats)
    target["air"] = capability
    options = pd.DataFrame({"personnel": [1000, 500], "category": ["manoeuvre", "air"], "bn_eq": [3.0, 0.0],
                            "measure": [3.0, 1.0], "acquisition": [acquisition, 2 * acquisition],
                            "annual": [annual, annual], "lead_phases": [lead, lead]},
                           index=pd.Index(["mech_bde", "fighter_sqn"], name="unit_type"))
    names = ["AAA", "BBB", "CCC"][:nations]
    us_air = pd.DataFrame(0.0, index=cats, columns=range(phases))
    us_air.loc["air", list(range(min(deadline, phases)))] = capability  # US air present until the deadline
    years = phase_years(dates)
    return Problem(
        name="tiny", dates=dates, years=years, objective=objective, elements=frame,
        element_theatres=pd.DataFrame(1.0, index=ids, columns=["baltic"]), ceilings=ceilings or [],
        us_fixed_personnel=pd.DataFrame(0.0, index=["LTU"], columns=range(phases)),
        theatres=["baltic"], baseline=pd.DataFrame(2.0, index=["baltic"], columns=range(phases)),
        required=pd.DataFrame(floor + 2.0, index=["baltic"], columns=range(phases)),
        floor=pd.DataFrame(floor, index=["baltic"], columns=range(phases)),
        capability_target=target, capability_fixed=us_air,
        nations=names, options=options,
        recipe=pd.DataFrame({"mbt": [10.0, 0.0], "combat_aircraft": [0.0, 4.0]}, index=options.index),
        capacity=pd.DataFrame(capacity * 10, index=["mbt", "combat_aircraft"], columns=range(phases)),
        headroom=pd.DataFrame(headroom, index=names, columns=range(phases)),
        recruits=pd.Series(recruits, index=names), gdp=pd.Series(1e6, index=names),
        lift_per_phase=lift, max_share=1.0, time_limit=10.0, mip_gap=0.0)


def total_cost(problem: Problem, solution: Solution) -> float:
    return float(evaluate(problem, solution)["cost"].sum())


def brute_force(problem: Problem) -> float | None:
    """Least cost over every monotone departure pattern, each priced by the LP with departures fixed (one model,
    its departure bounds reset for each pattern)."""
    phases = problem.phases
    first = pd.DataFrame(1.0, index=problem.elements.index, columns=range(phases))
    builder = build_model(problem, fixed_stay=first)
    best = None
    # each element leaves at some phase in [earliest, deadline] (deadline == phases: may stay to the end)
    choices = [range(int(r.earliest), min(int(r.deadline), phases) + 1) for r in problem.elements.itertuples()]
    for leave in itertools.product(*choices):
        values = np.array([[1.0 if k < t else 0.0 for k in range(phases)] for t in leave])
        bound = builder.da(values, builder.E, builder.P)
        builder.stay.update(lower=0.0 * bound, upper=1.0 + 0.0 * bound)  # widen, then fix: never lower > upper
        builder.stay.update(lower=bound, upper=bound)
        status, _ = _run(builder.m, "highs", {"output_flag": False})
        if status != "ok":
            continue
        value = float(builder.m.objective.value)
        best = value if best is None else min(best, value)
    return best


def test_solution_meets_every_constraint_checked_without_the_solver():
    problem = tiny(elements=3, nations=2, capability=2.0)
    result = solve(problem)
    assert result.feasible, result.conflicts
    assert check(problem, result.solution) == []
    # every element is gone by its deadline and the floor holds in every phase
    assert (result.solution.stay.loc[:, 3:] == 0).all().all()
    present = evaluate(problem, result.solution)["present"][0]
    assert np.all(present >= problem.floor.loc["baltic"].to_numpy() - 1e-6)


def test_the_independent_check_catches_violations():
    problem = tiny()
    solution = solve(problem).solution
    comes_back = Solution(solution.stay.copy(), solution.add.copy(), solution.post.copy())
    comes_back.stay.iloc[0, :] = [1, 0, 1, 0, 0]
    assert any("comes back" in v for v in check(problem, comes_back))
    no_backfill = Solution(solution.stay.copy(), np.zeros_like(solution.add), np.zeros_like(solution.post))
    assert any("deterrence" in v for v in check(problem, no_backfill))
    lingering = Solution(solution.stay.copy(), solution.add.copy(), solution.post.copy())
    lingering.stay.iloc[0, :] = 1
    assert any("after its deadline" in v for v in check(problem, lingering))
    too_early = Solution(solution.stay.copy(), solution.add.copy(), solution.post.copy())
    too_early.add[0, 0, 0] = 1.0
    assert any("lead time" in v for v in check(problem, too_early))


@pytest.mark.parametrize("elements,deadline", [(1, 2), (2, 3), (3, 3)])
def test_small_cases_match_brute_force(elements, deadline):
    problem = tiny(elements=elements, deadline=deadline, phases=5, annual=25.0, floor=1.0 + 2.0 * elements)
    result = solve(problem, prices=False)
    assert result.feasible
    assert result.objective_value == pytest.approx(brute_force(problem), rel=1e-6, abs=1e-6)


@settings(max_examples=12, deadline=None)
@given(floor=st.floats(2.0, 10.0), headroom=st.floats(150.0, 1000.0), capacity=st.floats(0.5, 3.0),
       tighten=st.sampled_from(["floor", "headroom", "capacity", "capability"]))
def test_tightening_a_constraint_never_lowers_the_optimal_cost(floor, headroom, capacity, tighten):
    base = dict(floor=floor, headroom=headroom, capacity=capacity, capability=1.0)
    tighter = dict(base)
    tighter[tighten] = {"floor": floor * 1.3, "headroom": headroom * 0.7, "capacity": capacity * 0.7,
                        "capability": 2.0}[tighten]
    loose, tight = solve(tiny(**base), prices=False), solve(tiny(**tighter), prices=False)
    if not loose.feasible:
        assert not tight.feasible  # tightening cannot make an infeasible problem feasible
        return
    if tight.feasible:
        assert total_cost(tiny(**tighter), tight.solution) >= total_cost(tiny(**base), loose.solution) - 1e-6


@settings(max_examples=10, deadline=None)
@given(floor=st.floats(2.5, 12.0), elements=st.integers(1, 3))
def test_removing_the_deterrence_constraint_never_raises_the_cost(floor, elements):
    # a like-for-like level binds in both, so the cost is not trivially zero without the floor
    kwargs = dict(elements=elements, headroom=1e5, capacity=50, capability=1.0)
    with_floor = solve(tiny(floor=floor, **kwargs), prices=False)
    without = solve(tiny(floor=-1e9, **kwargs), prices=False)
    assert without.feasible and without.objective_value > 0
    if with_floor.feasible:
        assert without.objective_value <= with_floor.objective_value + 1e-6
        # the floor is above what remains once the US has gone (2 bn_eq), so it must cost something
        assert with_floor.objective_value > without.objective_value


def test_same_problem_same_answer():
    a, b = solve(tiny(elements=3, nations=2)), solve(tiny(elements=3, nations=2))
    assert a.objective_value == b.objective_value
    assert (a.solution.stay == b.solution.stay).all().all()
    assert np.allclose(a.solution.add, b.solution.add)


def test_infeasible_is_explained_by_the_conflicting_families():
    # units take 4 phases to field, but the US must be gone by phase 1 and the floor needs 6 bn_eq
    result = solve(tiny(lead=4, deadline=1))
    assert not result.feasible
    families = {c["family"] for c in result.conflicts}
    assert families & {"deterrence", "deadline"}
    assert all(c["text"] and "slack" not in c["text"] for c in result.conflicts)


def test_lift_limit_spreads_departures_over_phases():
    free = solve(tiny(elements=3, deadline=5, floor=0.0, objective="time"))
    limited = solve(tiny(elements=3, deadline=5, floor=0.0, objective="time", lift=1200.0))
    assert free.feasible and limited.feasible
    assert evaluate(tiny(elements=3), free.solution)["leaving"].max() > 1200
    leaving = evaluate(tiny(elements=3, lift=1200.0), limited.solution)["leaving"]
    assert leaving.max() <= 1200 + 1e-6
    assert limited.objective_value > free.objective_value  # troops stay longer


def test_time_objective_leaves_earlier_than_cost_objective():
    cost = solve(tiny(elements=2, deadline=5, objective="cost"))
    time = solve(tiny(elements=2, deadline=5, objective="time"))
    assert evaluate(tiny(), time.solution)["troop_years"] < evaluate(tiny(), cost.solution)["troop_years"]


@pytest.mark.parametrize("capability", [0.0, 2.0])
def test_shortfall_objective_reports_the_gap_instead_of_failing(capability):
    problem = tiny(lead=4, deadline=1, objective="shortfall", capability=capability)
    result = solve(problem)
    assert result.feasible
    assert result.objective_value > 0
    assert check(problem, result.solution) == []


def test_reduce_ceiling_is_respected():
    ceiling = Ceiling("LTU", first=2, personnel=1000, elements=["e0", "e1"], line=1)
    problem = tiny(elements=2, deadline=5, floor=0.0, ceilings=[ceiling])
    result = solve(problem)
    assert result.feasible and check(problem, result.solution) == []
    assert evaluate(problem, result.solution)["us_by_country"].loc["LTU"].to_numpy()[2:].max() <= 1000


# ---- the bundled scenarios ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def germany(data):
    from drawdown.runner import run_roadmap
    from drawdown.scenario import load_scenario

    return run_roadmap(load_scenario("scenarios/germany-roadmap.yaml"), data)


def test_germany_roadmap_document(germany):
    d = germany
    assert d["feasible"] is True and d["objective"] == "cost"
    assert d["gap"] is not None and d["gap"] <= 0.01
    for phase in d["phases"]:
        assert set(phase) >= {"date", "us_troops_by_country", "european_additions", "deterrence"}
        for t, v in phase["deterrence"].items():
            assert set(v) >= {"present", "required"}
            assert v["present"] >= v["floor"] - 1e-3
    assert d["cost_usd"]["total_m"] == pytest.approx(sum(d["cost_usd"]["by_nation_m"].values()), rel=1e-3)
    # the end state: at most 12,000 US troops in Germany from end-2031, Ramstein kept throughout
    late = [p for p in d["phases"] if p["date"] >= "2031-12-31"]
    assert late and all(p["us_troops_by_country"].get("DEU", 0) <= 12000 for p in late)
    assert not any(r["action"] == "withdraw" and "ramstein" in str(r["element"]) for r in d["roadmap"])
    json.dumps(d)


def test_germany_roadmap_troops_are_conserved(germany, data):
    """US troops at the start = troops at the end + troops withdrawn by the roadmap + data-scheduled changes."""
    first, last = germany["phases"][0], germany["phases"][-1]
    withdrawn = sum(r["personnel"] for r in germany["roadmap"] if r["action"] == "withdraw" and r["phase"] > 0)
    from drawdown.scenario import load_scenario

    timeline = load_scenario("scenarios/germany-roadmap.yaml").timeline(data)
    ledger = timeline.ledger[(timeline.ledger["owner"] == "USA") & (timeline.ledger["phase"] > 0)]
    drift = int(ledger["scheduled_in"].sum()) - int(ledger["scheduled_out"].sum())
    assert first["us_troops_total"] - withdrawn + drift == pytest.approx(last["us_troops_total"], abs=2)


def test_a_deadline_before_any_replacement_can_be_ready_is_explained(data, tmp_path):
    """The post-1990 exit by mid-2027: the US Aegis Ashore sites and HIMARS must leave before any European
    air-defence or rocket unit decided at the start can be ready (three years), so no roadmap exists."""
    from drawdown.runner import run_roadmap
    from drawdown.scenario import load_scenario

    path = tmp_path / "early.yaml"
    path.write_text(Path("scenarios/post-1990-exit.yaml").read_text().replace("by: 2028-12-31", "by: 2027-06-30"))
    d = run_roadmap(load_scenario(path), data, what_ifs=0)
    assert d["feasible"] is False and d["phases"] == []
    assert d["conflicts"] and "aegis" in d["explanation"]
    assert {c["family"] for c in d["conflicts"]} & {"deadline", "capability"}
    shortfall = run_roadmap(load_scenario(path), data, objective="shortfall", what_ifs=0)
    assert shortfall["feasible"] is True and shortfall["objectives"]["shortfall_bn_eq_years"] > 0


def test_post_1990_exit_as_written_is_feasible_just_in_time(data):
    from drawdown.runner import run_roadmap
    from drawdown.scenario import load_scenario

    d = run_roadmap(load_scenario("scenarios/post-1990-exit.yaml"), data, what_ifs=0)
    assert d["feasible"] is True and d["end_state"] <= "2029-01-01"
    fielded = [r for r in d["roadmap"] if r["action"] == "field"]
    assert fielded and min(r["date"] for r in fielded) >= "2029-01-01"  # three-year lead time from the start


def test_what_if_easing_a_binding_limit_never_hurts_and_says_so():
    from drawdown.roadmap import what_if

    problem = tiny(elements=3, nations=2, capability=2.0, deadline=3)
    result = solve(problem)
    answers = what_if(problem, result, limit=3)
    assert answers, "a binding deterrence floor or capability level should be eased"
    for a in answers:
        assert a["cost_saving_usd_m"] >= -1e-6  # one more unit in place never makes the least-cost roadmap dearer
        assert a["text"].startswith("With one more") or "change nothing" in a["text"]
    assert any(a["cost_saving_usd_m"] > 0 for a in answers)


def test_germany_what_if_in_the_document(germany):
    assert germany["what_if"] and all(w["text"] for w in germany["what_if"])
    assert {w["family"] for w in germany["what_if"]} <= {"deterrence", "capability", "production"}


def test_lead_times_count_from_dates():
    from drawdown.roadmap import lead_phases
    from drawdown.scenario.timeline import phase_dates

    quarterly = phase_dates(dt.date(2026, 1, 1), dt.date(2032, 12, 31), "quarter")
    assert quarterly[lead_phases(quarterly, 3.0)] == dt.date(2029, 1, 1)
    assert quarterly[lead_phases(quarterly, 4.5)] == dt.date(2030, 7, 1)
    yearly = phase_dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31), "year")
    assert yearly[lead_phases(yearly, 3.0)] == dt.date(2029, 1, 1)
    assert lead_phases(yearly, 9.0) == len(yearly)  # not within the horizon
    assert phase_years(yearly)[-1] < 0.01  # the horizon date is the end, not another year


def test_no_nation_able_to_add_is_an_answer_not_a_crash():
    result = solve(tiny(nations=0))
    assert not result.feasible
    assert result.conflicts and all(c["text"] for c in result.conflicts)
    nothing = solve(tiny(nations=0, elements=0, floor=0.0))
    assert nothing.feasible and nothing.status == "nothing to decide"


def test_time_limit_without_a_solution_is_not_called_infeasible(monkeypatch):
    import drawdown.roadmap as roadmap

    monkeypatch.setattr(roadmap, "_run", lambda model, solver, options: ("warning", "time_limit"))
    result = roadmap.solve(tiny())
    assert not result.feasible and result.status == "time_limit"
    assert "not a proof" in result.conflicts[0]["text"]


def test_share_cap_holds_and_an_impossible_cap_is_named():
    from dataclasses import replace

    problem = replace(tiny(nations=3, elements=3), max_share=0.4)
    result = solve(problem)
    assert result.feasible and check(problem, result.solution) == []
    by_nation = evaluate(problem, result.solution)["cost"].sum(axis=1)
    assert by_nation.max() <= 0.4 * by_nation.sum() + 1e-6
    impossible = solve(replace(tiny(nations=3, elements=3), max_share=0.3))
    assert not impossible.feasible
    assert any(c["family"] == "share" for c in impossible.conflicts)


def test_germany_problem_solution_passes_the_independent_check(data):
    from drawdown.roadmap import build_problem
    from drawdown.scenario import load_scenario

    scenario = load_scenario("scenarios/germany-roadmap.yaml")
    problem = build_problem(scenario, data, scenario.timeline(data))
    # both reduce actions' elements may leave from the first one's start (2026-07-01), not the second's
    assert problem.elements["earliest"].min() == 3 and problem.dates[3] == dt.date(2026, 10, 1)
    result = solve(problem, prices=False)
    assert result.feasible and check(problem, result.solution) == []
    germany_troops = evaluate(problem, result.solution)["us_by_country"].loc["DEU"]
    for k, date in enumerate(problem.dates):
        if date >= dt.date(2028, 12, 31):
            assert germany_troops[k] <= 24000
        if date >= dt.date(2031, 12, 31):
            assert germany_troops[k] <= 12000


def test_roadmap_block_settings_reach_the_problem_and_bad_ones_are_named(data, tmp_path):
    from drawdown.errors import ScenarioError
    from drawdown.roadmap import build_problem
    from drawdown.scenario import load_scenario

    text = (Path("scenarios/kosovo-exit.yaml").read_text()
            .replace("actions:", "roadmap: {objective: time, opt_out: [DEU, FRA], unit_types: [patriot_bn]}\nactions:", 1))
    path = tmp_path / "k.yaml"
    path.write_text(text)
    scenario = load_scenario(path)
    problem = build_problem(scenario, data, scenario.timeline(data))
    assert problem.objective == "time" and list(problem.options.index) == ["patriot_bn"]
    assert "DEU" not in problem.nations and "FRA" not in problem.nations
    path.write_text(text.replace("objective: time,", "objective: time, max_share: 0.01,"))
    with pytest.raises(ScenarioError, match="max_share"):
        scenario = load_scenario(path)
        build_problem(scenario, data, scenario.timeline(data))
