"""The roadmap result as a JSON-ready document (the CLI, the store and the report read this)."""

from __future__ import annotations

from typing import Any

import numpy as np

from drawdown.data import Dataset
from drawdown.roadmap import RoadmapResult, evaluate

#: Smallest fielded or stationed amount reported (units).
SHOWN = 1e-4


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def roadmap_document(result: RoadmapResult, data: Dataset, parameters: dict[str, Any]) -> dict[str, Any]:
    p = result.problem
    document: dict[str, Any] = {
        "feasible": result.feasible, "objective": p.objective, "status": result.status, "solver": result.solver,
        "solve_seconds": _r(result.seconds), "gap": None if result.gap is None else _r(result.gap, 5),
        "objective_value": None if result.objective_value is None or not np.isfinite(result.objective_value)
        else _r(result.objective_value),
        "settings": {k: v for k, v in p.settings.items() if k != "objective"},
        "lift_personnel_per_phase": None if not np.isfinite(p.lift_per_phase) else int(p.lift_per_phase),
        "requirement": {t: {"required_bn_eq_at_start": _r(p.required.at[t, 0]),
                            "present_bn_eq_at_start": _r(p.baseline.at[t, 0] + float(
                                (p.element_theatres[t] * p.elements["bn_eq"]).sum()) if len(p.elements) else p.baseline.at[t, 0])}
                        for t in p.theatres},
        "decided_elements": len(p.elements),
        "binding_constraints": result.binding,
        "conflicts": result.conflicts,
    }
    if not result.feasible or result.solution is None:
        document.update({"phases": [], "roadmap": [], "cost_usd": None, "burden": {},
                         "explanation": ("No roadmap found: " if result.status == "time_limit"
                                         else "No roadmap meets every constraint: ") + "; ".join(
                             c["text"] for c in result.conflicts) if result.conflicts else "infeasible"})
        return document
    s = result.solution
    v = evaluate(p, s)
    options = list(p.options.index)
    phases = []
    for k, date in enumerate(p.dates):
        us = {c: int(round(x)) for c, x in v["us_by_country"][k].items() if round(x) > 0}
        additions: dict[str, dict[str, float]] = {}
        for n, nation in enumerate(p.nations):
            row = {u: _r(v["fielded"][n, i, k]) for i, u in enumerate(options) if v["fielded"][n, i, k] > SHOWN}
            if row:
                additions[nation] = row
        stationed = {t: {u: _r(s.post[i, j, k]) for i, u in enumerate(options) if s.post[i, j, k] > SHOWN}
                     for j, t in enumerate(p.theatres)}
        deterrence = {t: {"present": _r(v["present"][j, k]), "required": _r(p.required.at[t, k]),
                          "floor": _r(p.floor.at[t, k])} for j, t in enumerate(p.theatres)}
        phases.append({"phase": k, "date": date.isoformat(), "us_troops_by_country": us,
                       "us_troops_total": int(sum(us.values())), "european_additions": additions,
                       "stationed": {t: x for t, x in stationed.items() if x}, "deterrence": deterrence,
                       "capability": {c: _r(x[k]) for c, x in v["capability"].items()}})
    rows = []
    for e, row in p.elements.iterrows():
        gone = np.nonzero(s.stay.loc[e].to_numpy() < 0.5)[0]
        if len(gone):
            k = int(gone[0])
            rows.append({"phase": k, "date": p.dates[k].isoformat(), "action": "withdraw", "who": "USA",
                         "element": e, "country": row["country"], "unit_type": row["unit_type"],
                         "personnel": int(row["personnel"]), "units": None, "cost_usd_m": 0.0, "decide_by": None})
    for n, nation in enumerate(p.nations):
        for i, u in enumerate(options):
            for k in np.nonzero(s.add[n, i] > SHOWN)[0]:
                units = float(s.add[n, i, k])
                decide = max(0, int(k) - int(p.options.at[u, "lead_phases"]))
                rows.append({"phase": int(k), "date": p.dates[k].isoformat(), "action": "field", "who": nation,
                             "element": None, "country": nation, "unit_type": u,
                             "personnel": int(round(units * float(p.options.at[u, "personnel"]))),
                             "units": _r(units), "cost_usd_m": _r(units * float(p.options.at[u, "acquisition"]), 1),
                             "decide_by": p.dates[decide].isoformat()})
    rows.sort(key=lambda r: (r["phase"], r["action"], r["who"], r["unit_type"]))
    by_nation = v["cost"].sum(axis=1)
    burden: dict[str, dict[str, Any]] = {}
    table = data.nations.set_index("iso3")
    for n, nation in enumerate(p.nations):
        if by_nation[n] <= SHOWN:
            continue
        years: dict[str, Any] = {}
        for k, date in enumerate(p.dates):
            entry = years.setdefault(str(date.year), {"usd_m": 0.0})
            entry["usd_m"] += float(v["cost"][n, k])
        gdp = float(p.gdp[nation])
        milex = float(table.at[nation, "milex_pct_gdp"]) if not np.isnan(table.at[nation, "milex_pct_gdp"]) else None
        for entry in years.values():
            entry["usd_m"] = _r(entry["usd_m"], 1)
            entry["pct_gdp"] = _r(100 * entry["usd_m"] / gdp, 4)
            entry["spending_pct_gdp"] = None if milex is None else _r(milex + entry["pct_gdp"], 3)
        burden[nation] = years
    document.update({
        "phases": phases, "roadmap": rows,
        "cost_usd": {"total_m": _r(by_nation.sum(), 1),
                     "by_nation_m": {nation: _r(by_nation[n], 1) for n, nation in enumerate(p.nations)
                                     if by_nation[n] > SHOWN}},
        "objectives": {"cost_usd_m": _r(by_nation.sum(), 1), "troop_years": _r(v["troop_years_total"], 1),
                       "troop_years_decided": _r(v["troop_years"], 1),
                       "shortfall_bn_eq_years": _r(float((np.maximum(0.0, p.required.loc[p.theatres].to_numpy()
                                                                       - v["present"]) * p.years[None, :]).sum()), 2)},
        "end_state": p.dates[max((r["phase"] for r in rows if r["action"] == "withdraw"), default=0)].isoformat()
        if any(r["action"] == "withdraw" for r in rows) else None,
        "burden": burden,
        "spending_lines_pct": {"low": float(parameters.get("balance.spending_line_low", 2.0)),
                               "core": float(parameters.get("balance.spending_line_core", 3.5))},
    })
    return document
