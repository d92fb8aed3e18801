"""The roadmap optimiser: when each US force element leaves and what Europe adds, phase by phase.

:func:`solve` builds the linopy model (:mod:`drawdown.roadmap.model`) for a :class:`Problem`
(:mod:`drawdown.roadmap.problem`), solves it with HiGHS under a time limit and gap, and returns a
:class:`RoadmapResult`. The result is re-evaluated from the solution alone by :func:`evaluate` (numpy, no
solver), and :func:`check` verifies every constraint independently. When the problem is infeasible an elastic
copy (a slack per constraint family) says which families conflict, in words. Prices of binding constraints
come from the LP with the departures fixed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drawdown.roadmap.model import EPSILON, build_model
from drawdown.roadmap.problem import CAPABILITIES, Ceiling, Problem, build_problem, lead_phases, phase_years

__all__ = ["Problem", "Ceiling", "Solution", "RoadmapResult", "build_problem", "solve", "evaluate", "check",
           "what_if", "phase_years", "lead_phases", "SOLVERS"]

SOLVERS = ("highs", "cbc")
TOLERANCE = 1e-5


@dataclass
class Solution:
    """Decision values: ``stay`` (element x phase, 0/1), ``add`` (nation x option x phase units fielded),
    ``post`` (option x theatre x phase units stationed)."""

    stay: pd.DataFrame
    add: np.ndarray
    post: np.ndarray


@dataclass
class RoadmapResult:
    problem: Problem
    feasible: bool
    status: str
    solver: str
    seconds: float
    gap: float | None
    objective_value: float | None
    solution: Solution | None
    binding: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _solver_options(solver: str, problem: Problem, *, lp: bool = False) -> dict[str, Any]:
    if solver == "highs":
        options: dict[str, Any] = {"time_limit": problem.time_limit, "output_flag": False, "log_to_console": False}
        if not lp:
            options["mip_rel_gap"] = problem.mip_gap
        return options
    if solver == "cbc":
        return {"sec": int(max(1, problem.time_limit)), "ratio": problem.mip_gap}
    raise ValueError(f"unknown solver '{solver}' (choose from {', '.join(SOLVERS)})")


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """The solver libraries write their banners straight to file descriptor 1 (C code): point it at
    /dev/null while they run, so that `--json` output stays clean."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (e.g. some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _run(model: Any, solver: str, options: dict[str, Any]) -> tuple[str, str]:
    """Solve quietly: the engine prints nothing (linopy's and the solver's logs are silenced)."""
    logger = logging.getLogger("linopy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), _native_stdout_silenced():
            warnings.simplefilter("ignore")
            kwargs: dict[str, Any] = {"progress": False}
            if solver == "highs":
                kwargs["io_api"] = "direct"
            return model.solve(solver_name=solver, **kwargs, **options)
    finally:
        logger.setLevel(level)


def _gap(model: Any, solver: str) -> float | None:
    if solver != "highs":
        return None
    try:
        gap = float(model.solver_model.getInfo().mip_gap)
    except Exception:
        return None
    return gap if np.isfinite(gap) else None


def _empty_solution(problem: Problem) -> Solution:
    p = problem
    return Solution(pd.DataFrame(np.ones((len(p.elements), p.phases)), index=p.elements.index, columns=range(p.phases)),
                    np.zeros((len(p.nations), len(p.options), p.phases)),
                    np.zeros((len(p.options), len(p.theatres), p.phases)))


def _extract(builder: Any) -> Solution:
    p = builder.p
    solution = _empty_solution(p)
    if builder.has_elements():
        solution.stay = pd.DataFrame(np.rint(builder.stay.solution.to_numpy()), index=p.elements.index,
                                     columns=range(p.phases))
    if builder.europe:
        solution.add = np.clip(builder.add.solution.to_numpy(), 0.0, None)
        solution.post = np.clip(builder.post.solution.to_numpy(), 0.0, None)
    return solution


def solve(problem: Problem, *, solver: str = "highs", explain: bool = True, prices: bool = True) -> RoadmapResult:
    """Solve the roadmap problem; explain infeasibility and price binding constraints.

    Outcomes: ``feasible`` with a solution (optimal, or the best found when the time limit struck, with its
    gap); infeasible, with the conflicting families; or no solution found within the time limit (status
    ``time_limit``, not a proof of infeasibility)."""
    started = time.perf_counter()
    if len(problem.elements) == 0 and (len(problem.nations) == 0 or len(problem.options) == 0):
        # nothing to decide: the posture follows the timeline; report what the data alone breaks
        solution = _empty_solution(problem)
        violations = check(problem, solution)
        result = RoadmapResult(problem, not violations, "nothing to decide", solver, 0.0, None, 0.0,
                               solution if not violations else None)
        result.conflicts = [{"family": "data", "where": "", "text": v} for v in violations]
        return result
    builder = build_model(problem)
    status, condition = _run(builder.m, solver, _solver_options(solver, problem))
    seconds = time.perf_counter() - started
    value = builder.m.objective.value
    found = value is not None and np.isfinite(value) and condition in ("optimal", "time_limit", "suboptimal")
    if condition == "time_limit" and not found:
        result = RoadmapResult(problem, False, "time_limit", solver, seconds, None, None, None)
        result.conflicts = [{"family": "time_limit", "where": "", "text":
                             f"no roadmap was found within the time limit ({problem.time_limit:g} s); this is not a "
                             "proof that none exists: raise roadmap.time_limit_s"}]
        return result
    if not found:
        result = RoadmapResult(problem, False, str(condition), solver, seconds, None, None, None)
        if explain:
            result.conflicts = explain_infeasible(problem, solver=solver)
        return result
    solution = _extract(builder)
    result = RoadmapResult(problem, True, str(condition), solver, seconds, _gap(builder.m, solver), float(value),
                           solution)
    if prices and solver == "highs":
        result.binding = price_constraints(problem, solution, solver=solver)
    return result


# ---- evaluation without the solver ---------------------------------------------------------------------------

def evaluate(problem: Problem, solution: Solution) -> dict[str, Any]:
    """Everything the roadmap implies, recomputed from the decision values alone (numpy)."""
    p = problem
    stay = solution.stay.to_numpy() if len(solution.stay) else np.zeros((0, p.phases))
    fielded = np.cumsum(solution.add, axis=2)                                   # nation, option, phase
    options = p.options
    bn_eq_e = p.elements["bn_eq"].to_numpy() if len(p.elements) else np.zeros(0)
    member = p.element_theatres.loc[p.elements.index, p.theatres].to_numpy() if len(p.elements) else np.zeros((0, len(p.theatres)))
    present = (p.baseline.loc[p.theatres].to_numpy()
               + np.einsum("et,ep->tp", member * bn_eq_e[:, None], stay)
               + np.einsum("u,utp->tp", options["bn_eq"].to_numpy(), solution.post))
    cost = (np.einsum("u,nup->np", options["acquisition"].to_numpy(), solution.add)
            + np.einsum("u,nup->np", options["annual"].to_numpy(), fielded) * p.years[None, :])
    capability = {}
    for c in CAPABILITIES:
        if p.capability_target[c] <= 0:
            continue
        from_us = (p.elements["measure"].to_numpy() * (p.elements["category"].to_numpy() == c)) @ stay \
            if len(p.elements) else np.zeros(p.phases)
        weights = options["measure"].to_numpy() * (options["category"].to_numpy() == c)
        capability[c] = from_us + p.capability_fixed.loc[c].to_numpy() + np.einsum("u,nup->p", weights, fielded)
    staff = p.elements["personnel"].to_numpy() if len(p.elements) else np.zeros(0)
    previous = np.hstack([np.ones((len(staff), 1)), stay[:, :-1]]) if len(staff) else np.zeros((0, p.phases))
    leaving = staff @ (previous - stay) if len(staff) else np.zeros(p.phases)
    us_by_country = p.us_fixed_personnel.copy()
    for e, row in p.elements.iterrows():
        if row["country"] not in us_by_country.index:
            us_by_country.loc[row["country"]] = 0.0
        us_by_country.loc[row["country"]] += float(row["personnel"]) * solution.stay.loc[e].to_numpy()
    return {"present": present, "cost": cost, "capability": capability, "leaving": leaving,
            "fielded": fielded, "us_by_country": us_by_country,
            "troop_years": float((staff @ stay) @ p.years) if len(staff) else 0.0,
            "troop_years_total": float(us_by_country.sum(axis=0).to_numpy() @ p.years)}


def check(problem: Problem, solution: Solution, *, tolerance: float = 1e-4) -> list[str]:
    """Every constraint, verified from the decision values without the solver; returns the violations."""
    p = problem
    out: list[str] = []
    v = evaluate(p, solution)
    stay = solution.stay.to_numpy() if len(solution.stay) else np.zeros((0, p.phases))
    if stay.size and not np.all(np.isin(stay, (0.0, 1.0))):
        out.append("stay is not 0/1")
    if stay.size and np.any(np.diff(stay, axis=1) > tolerance):
        out.append("an element comes back after leaving")
    for i, (e, row) in enumerate(p.elements.iterrows()):
        if np.any(stay[i, : int(row["earliest"])] < 1 - tolerance):
            out.append(f"{e} leaves before its action starts")
        if np.any(stay[i, int(row["deadline"]):] > tolerance):
            out.append(f"{e} is still present after its deadline")
    need = p.required if p.objective == "shortfall" else p.floor
    if p.objective != "shortfall":
        short = need.loc[p.theatres].to_numpy() - v["present"]
        for t, k in zip(*np.nonzero(short > tolerance * np.maximum(1.0, need.loc[p.theatres].to_numpy()))):
            out.append(f"deterrence in {p.theatres[t]} on {p.dates[k]}: {v['present'][t, k]:.2f} < {need.iloc[t, k]:.2f}")
    fielded_total = v["fielded"].sum(axis=0)
    if np.any(solution.post.sum(axis=1) > fielded_total + tolerance * np.maximum(1.0, fielded_total)):
        out.append("more units stationed than fielded")
    for c, have in v["capability"].items():
        if p.objective == "shortfall":
            break  # soft under the shortfall objective: the gap is part of what it minimises
        if np.any(have < p.capability_target[c] - tolerance * max(1.0, p.capability_target[c])):
            out.append(f"capability {c} below its like-for-like level")
    room = p.headroom.loc[p.nations].to_numpy()
    for n, k in zip(*np.nonzero(v["cost"] > room + tolerance * np.maximum(1.0, room))):
        out.append(f"budget of {p.nations[n]} exceeded on {p.dates[k]}")
    for u, (name, o) in enumerate(p.options.iterrows()):
        lead = int(o["lead_phases"])
        if np.any(solution.add[:, u, :lead] > tolerance):
            out.append(f"{name} fielded before its lead time")
    for resource in p.recipe.columns:
        used = np.einsum("u,nup->p", p.recipe[resource].to_numpy(), solution.add)
        limit = p.capacity.loc[resource].to_numpy()
        if np.any(used > limit + tolerance * np.maximum(1.0, limit)):
            out.append(f"production of {resource} exceeded")
    staff = solution.add * p.options["personnel"].to_numpy()[None, :, None]
    limit = np.outer(p.recruits.loc[p.nations].to_numpy(), p.years)
    if np.any(staff.sum(axis=1) > limit + tolerance * np.maximum(1.0, limit)):
        out.append("recruitment exceeded")
    if np.isfinite(p.lift_per_phase) and np.any(v["leaving"] > p.lift_per_phase * (1 + tolerance)):
        out.append("withdrawal lift exceeded")
    for ceiling in p.ceilings:
        total = v["us_by_country"].loc[ceiling.country].to_numpy()
        if np.any(total[ceiling.first:] > ceiling.personnel + tolerance * max(1.0, ceiling.personnel)):
            out.append(f"US personnel in {ceiling.country} above the ceiling {ceiling.personnel}")
    if p.max_share < 1.0 and len(p.nations) > 1:
        by_nation = v["cost"].sum(axis=1)
        if np.any(by_nation > p.max_share * by_nation.sum() + tolerance * max(1.0, by_nation.sum())):
            out.append("a nation carries more than max_share of the cost")
    if np.any(solution.add < -tolerance) or np.any(solution.post < -tolerance):
        out.append("negative additions")
    return out


# ---- prices and explanations ---------------------------------------------------------------------------------

def _dual_rows(builder: Any, name: str) -> pd.DataFrame:
    if name not in builder.m.constraints:
        return pd.DataFrame()
    dual = builder.m.constraints[name].dual
    frame = dual.to_dataframe(name="dual").reset_index()
    return frame[frame["dual"].abs() > TOLERANCE]


#: How a binding family's price reads: (constraint name, its non-phase dimension, sentence).
PRICE_WORDS = (
    ("deterrence", "theatre", "Deterrence in {where} binds from {first} to {last}: one more battalion-equivalent "
                              "present there in every one of those phases would save {value:,.1f} {unit}."),
    ("capability", "capability", "Replacing US {where} like for like binds from {first} to {last}: needing one unit "
                                 "less of it throughout would save {value:,.1f} {unit}."),
    ("budget", "nation", "{where}'s spending ceiling binds from {first} to {last}: US$ 1 m more headroom in each "
                         "of those phases would save {value:,.3f} {unit}."),
    ("production", "resource", "Production of {where} binds from {first} to {last}: one more delivered in each of "
                               "those phases would save {value:,.1f} {unit}."),
    ("recruitment", "nation", "{where}'s recruitment binds from {first} to {last}: one more recruit in each of "
                              "those phases would save {value:,.3f} {unit}."),
    ("share", "nation", "The cap on {where}'s share of the cost binds: a looser cap would save {value:,.1f} {unit} "
                        "per unit of share."),
)


def price_constraints(problem: Problem, solution: Solution, *, solver: str = "highs") -> list[dict[str, Any]]:
    """Binding constraints and their shadow prices (per unit of the constraint, in the objective's units), from
    the LP with the departures fixed at the optimum, in words."""
    p = problem
    builder = build_model(p, fixed_stay=solution.stay if len(solution.stay) else None)
    status, _ = _run(builder.m, solver, _solver_options(solver, p, lp=True))
    if status != "ok":
        return []
    # with the departures fixed, the time objective's LP minimises only its cost tie-break (EPSILON x cost):
    # its duals, divided by EPSILON, price the cost of the roadmap that reaches that end state
    unit = {"cost": "US$ m of added cost", "time": "US$ m of added cost (departures as optimised)",
            "shortfall": "battalion-equivalent-years of shortfall"}[p.objective]
    scale = 1.0 / EPSILON if p.objective == "time" else 1.0
    out: list[dict[str, Any]] = []

    def add(family: str, where: str, rows: pd.DataFrame, words: str) -> None:
        value = float(rows["dual"].abs().sum()) * scale
        phases = sorted(int(k) for k in rows["phase"]) if "phase" in rows else []
        out.append({"family": family, "where": where, "price": round(value, 4), "unit": unit,
                    "from": str(p.dates[phases[0]]) if phases else None,
                    "to": str(p.dates[phases[-1]]) if phases else None,
                    "text": words.format(value=value, unit=unit,
                                         first=p.dates[phases[0]] if phases else "", last=p.dates[phases[-1]] if phases else "")})

    for family, dim, template in PRICE_WORDS:
        rows = _dual_rows(builder, family)
        for where, group in rows.groupby(dim) if not rows.empty else []:
            name = str(where)
            add(family, name, group, template.replace("{where}", name.replace("_", " ")))
    out.sort(key=lambda r: -r["price"])
    return out


FAMILY_WORDS = {
    "deterrence": "deterrence in {where} cannot be kept (short by up to {amount:,.1f} battalion-equivalents from {first})",
    "capability": "US {where} cannot be replaced like for like in time (short by up to {amount:,.1f} units from {first})",
    "budget": "{where}'s spending ceiling would be exceeded by up to US$ {amount:,.0f} m a phase from {first}",
    "production": "industry cannot deliver enough {where} (up to {amount:,.1f} units a phase too many from {first})",
    "recruitment": "{where} cannot recruit enough (up to {amount:,.0f} people a phase too many from {first})",
    "lift": "withdrawal lift is too small (up to {amount:,.0f} people a phase too many from {first})",
    "ceiling": "a reduce ceiling cannot be met (up to {amount:,.0f} people too many from {first})",
    "deadline": "{where} cannot leave by the end-state deadline",
}


def explain_infeasible(problem: Problem, *, solver: str = "highs") -> list[dict[str, Any]]:
    """Solve the elastic model (a slack per constraint family) and say, in words, which constraints conflict."""
    builder = build_model(problem, elastic=True)
    status, _ = _run(builder.m, solver, _solver_options(solver, problem))
    if status != "ok":
        return [{"family": "unknown", "text": "the problem is infeasible and the elastic model did not solve"}]
    out = []
    for family, variable in builder.slacks.items():
        values = variable.solution.to_dataframe(name="value").reset_index()
        values = values[values["value"] > 1e-4]
        if values.empty:
            continue
        kind = family.split("_")[0]
        key = next((c for c in values.columns if c not in ("phase", "value")), None)
        for where, group in (values.groupby(key) if key else [(family, values)]):
            first = problem.dates[int(group["phase"].min())] if "phase" in group else ""
            amount = float(group["value"].max())
            text = FAMILY_WORDS.get(kind, kind + " cannot be met").format(
                where=str(where).replace("_", " "), amount=amount, first=first)
            out.append({"family": kind, "where": str(where), "amount": round(amount, 3), "from": str(first),
                        "text": text})
    return out


# ---- counterfactuals ----------------------------------------------------------------------------------------------

def _eased(problem: Problem, kind: str, where: str) -> tuple[Problem, str]:
    """A copy of ``problem`` with one limit eased by one unit from the start, and the words for it."""
    from dataclasses import replace

    if kind == "deterrence":
        baseline = problem.baseline.copy()
        baseline.loc[where] += 1.0
        return replace(problem, baseline=baseline), f"one more battalion-equivalent in {where} from the start"
    if kind == "capability":
        options = problem.options[problem.options["category"] == where]
        unit, measure = (options.index[0], float(options["measure"].iloc[0])) if len(options) else (where, 1.0)
        fixed = problem.capability_fixed.copy()
        fixed.loc[where] += measure
        return replace(problem, capability_fixed=fixed), f"one more {unit} ({where.replace('_', ' ')}) from the start"
    capacity = problem.capacity.copy()
    per_unit = float(problem.recipe[where].max()) if where in problem.recipe else 1.0
    capacity.loc[where] += per_unit
    return replace(problem, capacity=capacity), f"one more unit's worth of {where.replace('_', ' ')} a phase"


def _candidates(problem: Problem, result: RoadmapResult, limit: int) -> list[tuple[str, str]]:
    """Limits worth easing: those the LP prices highest; for the time objective (whose prices an LP cannot give),
    the theatres and capabilities the departing elements weigh most in."""
    out: list[tuple[str, str]] = []
    for b in result.binding:
        if b["family"] in ("deterrence", "capability", "production") and (b["family"], b["where"]) not in out:
            out.append((b["family"], b["where"]))
    if problem.objective == "time" or not out:
        e = problem.elements
        if len(e):
            weight = problem.element_theatres.mul(e["bn_eq"], axis=0).sum().sort_values(ascending=False)
            out += [("deterrence", str(t)) for t, w in weight.items() if w > 0 and ("deterrence", t) not in out]
            by_cat = e[e["category"].isin(CAPABILITIES)].groupby("category")["measure"].sum().sort_values(ascending=False)
            out += [("capability", str(c)) for c in by_cat.index
                    if problem.capability_target[c] > 0 and ("capability", c) not in out]
    return out[:limit]


def what_if(problem: Problem, result: RoadmapResult, *, limit: int = 3, solver: str = "highs") -> list[dict[str, Any]]:
    """Counterfactual re-solves: how the objective, the cost, the US troop-years and the end state move if one
    binding limit is eased by one unit from the start ("one more Patriot battalion in place would let the last US
    element leave a year earlier")."""
    if not result.feasible or result.solution is None:
        return []
    base = evaluate(problem, result.solution)
    base_end = _end_state(problem, result.solution)
    out = []
    for kind, where in _candidates(problem, result, limit):
        eased, label = _eased(problem, kind, where)
        other = solve(eased, solver=solver, explain=False, prices=False)
        if not other.feasible or other.solution is None:
            continue
        after = evaluate(eased, other.solution)
        end = _end_state(eased, other.solution)
        saving = float(base["cost"].sum() - after["cost"].sum())
        years = float(base["troop_years"] - after["troop_years"])
        parts = []
        if abs(saving) > 0.5:
            parts.append(f"{'lower' if saving > 0 else 'raise'} the added cost by US$ {abs(saving):,.0f} m")
        if abs(years) > 0.5:
            parts.append(f"{'cut' if years > 0 else 'add'} {abs(years):,.0f} US troop-years")
        if end != base_end:
            parts.append(f"move the end state from {base_end} to {end}")
        text = (f"With {label}, the roadmap would " + ", ".join(parts) + "." if parts
                else f"{label[0].upper()}{label[1:]} would change nothing.")
        out.append({"family": kind, "where": where, "eased": label, "cost_saving_usd_m": round(saving, 1),
                    "troop_years_saved": round(years, 1), "end_state": None if end is None else str(end),
                    "text": text})
    return out


def _end_state(problem: Problem, solution: Solution) -> Any:
    """Date of the last departure of a decided element (None if none leaves)."""
    stay = solution.stay.to_numpy() if len(solution.stay) else np.zeros((0, problem.phases))
    gone = [int(np.argmax(row < 0.5)) for row in stay if (row < 0.5).any()]
    return problem.dates[max(gone)] if gone else None
