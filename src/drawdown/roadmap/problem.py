"""The roadmap problem as plain data: everything the optimiser needs, built from a scenario and the dataset.

Nothing here solves anything: :func:`build_problem` turns the scenario's political end state (its withdraw, reduce
and keep actions), the posture timeline, the campaign engine's deterrence requirement, the cost book and the
force-generation tables into arrays over named dimensions (element, nation, option, theatre, phase).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drawdown.campaign import required_defenders
from drawdown.campaign.forces import (ADVERSARIES, _national, coefficients, theatre_countries, theatre_forces,
                                      us_aircraft)
from drawdown.cost import CostBook, gdp_base
from drawdown.data import Dataset
from drawdown.errors import ScenarioError
from drawdown.scenario.model import Contingency, Reduce, Selector, Withdraw
from drawdown.scenario.timeline import resolve_nations

#: Capability categories replaced like for like, and how each is measured (a unit's power, or 1 per unit).
CAPABILITIES = ("air", "air_missile_defence", "fires", "naval", "tanker")
#: Granularity of the deterrence requirement search (battalion-equivalents per step).
REQUIREMENT_STEP = 0.5


@dataclass
class Ceiling:
    """A reduce action: the owner's personnel in ``country`` at most ``personnel`` from phase ``first`` on."""

    country: str
    first: int
    personnel: int
    elements: list[str]
    line: int | None


@dataclass
class Problem:
    """Inputs of one roadmap solve (phase-indexed arrays use the phase order of ``dates``)."""

    name: str
    dates: list[dt.date]
    years: np.ndarray                     # length of each phase in years
    objective: str
    # US force elements the optimiser decides on (index: element id)
    elements: pd.DataFrame                # country, unit_type, category, personnel, power, measure, earliest, deadline, line
    element_theatres: pd.DataFrame        # element x theatre: 1 if its power counts there
    ceilings: list[Ceiling]
    us_fixed_personnel: pd.DataFrame      # country x phase: US personnel not decided here (kept or untouched)
    # deterrence
    theatres: list[str]
    baseline: pd.DataFrame                # theatre x phase: bn_eq present without the decided elements
    required: pd.DataFrame                # theatre x phase: bn_eq the campaign engine requires
    floor: pd.DataFrame                   # theatre x phase: the hard floor (required, or today's level if lower)
    capability_target: pd.Series          # category: measure that must stay (US remaining + European added)
    capability_fixed: pd.DataFrame        # category x phase: US measure not decided here
    # Europe
    nations: list[str]
    options: pd.DataFrame                 # index unit_type: personnel, bn_eq, category, measure, acquisition, annual, lead_phases
    recipe: pd.DataFrame                  # option x resource: items of each produced resource one unit needs
    capacity: pd.DataFrame                # resource x phase: items industry delivers in the phase
    headroom: pd.DataFrame                # nation x phase: US$ m a nation may add in the phase
    recruits: pd.Series                   # nation: personnel a nation may add per year
    gdp: pd.Series                        # nation: GDP, base-year US$ m
    lift_per_phase: float                 # personnel that can leave Europe in one phase
    max_share: float
    time_limit: float
    mip_gap: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def phases(self) -> int:
        return len(self.dates)


def phase_years(dates: list[dt.date]) -> np.ndarray:
    """Years each phase lasts: to the next phase date; the last date is the horizon itself, so its phase lasts
    one day (the end state is observed there, nothing more is spent or built)."""
    gaps = [(b - a).days / 365.25 for a, b in zip(dates, dates[1:])]
    return np.array(gaps + [1.0 / 365.25])


def _phase_of(dates: list[dt.date], day: dt.date) -> int:
    """First phase on or after ``day`` (len(dates) if after the last)."""
    return next((i for i, d in enumerate(dates) if d >= day), len(dates))


def _phase_after(dates: list[dt.date], day: dt.date) -> int:
    """First phase strictly after ``day``: an element may be gone there if it may leave from ``day`` on (the
    posture of a phase date is the posture on that day)."""
    return next((i for i, d in enumerate(dates) if d > day), len(dates))


def lead_phases(dates: list[dt.date], years: float) -> int:
    """First phase whose date is at least ``years`` after the first: a unit decided at the start is ready
    there (len(dates) if not within the horizon)."""
    months = round(years * 12)  # calendar months: 4.5 years from 1 January is 1 July
    total = dates[0].month - 1 + months
    year, month = dates[0].year + total // 12, total % 12 + 1
    day = min(dates[0].day, calendar.monthrange(year, month)[1])
    return _phase_of(dates, dt.date(year, month, day))


def requirement(data: Dataset, theatre: str, date: dt.date, *, hold_days: float, probability: float,
                warning_days: float, seed: int, samples: int, backend: str = "auto",
                aircraft: float = 0.0, parameters: dict[str, Any] | None = None) -> float | None:
    """Defender battalion-equivalents, arrayed in proportion to the attack, that hold every objective of
    ``theatre`` for ``hold_days`` with ``probability`` against the adversary order of battle of ``date``
    (the campaign engine's requirement search from zero defenders). None if no attack is possible then."""
    contingency = Contingency(theatre=theatre, date=date, national_forces=False)  # type: ignore[arg-type]
    forces = theatre_forces(data, contingency, None)
    if not any(a.attackers_bn_eq > 0 for a in forces.axes):
        return None
    empty = [type(a)(a.id, a.objective, a.length_km, 0.0, a.attackers_bn_eq, a.segments) for a in forces.axes]
    units = required_defenders(empty, coefficients(data, parameters), seed, hold_days=hold_days, probability=probability,
                               unit_power=REQUIREMENT_STEP, samples=samples, warning_days=warning_days,
                               max_units=2000, backend=backend, aircraft=aircraft)
    return float("inf") if units is None else units * REQUIREMENT_STEP


def _measure(row: Any) -> float:
    """A unit's weight in its capability: its power where it has one, else one per unit."""
    power = float(row["power"]) if not pd.isna(row["power"]) else 0.0
    return power if power > 0 else 1.0


def build_problem(scenario: Any, data: Dataset, timeline: Any, *, seed: int = 0, samples: int = 2000,
                  lift_per_phase: float | None = None, backend: str = "auto") -> Problem:
    """Assemble the roadmap problem for ``scenario`` (a :class:`drawdown.scenario.Scenario`) and its timeline."""
    parsed = scenario.parsed
    header = parsed.header
    block = header.roadmap
    params = timeline.parameters
    settings = {
        "objective": block.objective if block else "cost",
        "hold_days": float(block.hold_days if block and block.hold_days else params["roadmap.hold_days"]),
        "probability": float(block.probability if block and block.probability else params["roadmap.probability"]),
        "max_share": float(block.max_share if block and block.max_share else params["roadmap.max_share"]),
        "budget_target_pct": float(block.budget_target_pct if block and block.budget_target_pct
                                   else params["roadmap.budget_target_pct"]),
        "budget_target_year": int(block.budget_target_year if block and block.budget_target_year
                                  else params["roadmap.budget_target_year"]),
        "recruit_share": float(params["roadmap.recruit_share_per_year"]),
        "replace": list(block.replace) if block and block.replace is not None else list(CAPABILITIES),
        "time_limit": float(params["roadmap.time_limit_s"]),
        "mip_gap": float(params["roadmap.mip_gap"]),
    }
    dates = list(timeline.dates)
    years = phase_years(dates)
    holdings = timeline.holdings
    us0 = holdings[(holdings["phase"] == 0) & (holdings["owner"] == "USA")]
    types = data.unit_types.set_index("id")

    # --- which US elements the end state lets the optimiser time, and by when they must be gone ------------
    by_line = {pa.location.line: pa for pa in parsed.actions}
    out = timeline.withdrawals
    out = out[(out["owner"] == "USA") & (out["reason"] == "withdrawn") & out["action_line"].notna()]
    elements: dict[str, dict[str, Any]] = {}
    ceilings: dict[int, Ceiling] = {}
    first_present = us0.groupby("element_id").agg(country=("country", "first"), unit_type=("unit_type", "first"),
                                                 category=("category", "first"), personnel=("personnel", "sum"),
                                                 power=("power", "sum"))
    for row in out.itertuples():
        if row.element_id not in first_present.index:
            continue  # arrived after the start: follows the timeline (see docs/models/roadmap.md)
        pa = by_line.get(int(row.action_line))
        if pa is None:
            continue
        a = pa.action
        start, by = a.window(header.start)
        # an element several actions touch may leave from the earliest of their starts, and must be gone by
        # the earliest withdraw deadline
        entry = elements.setdefault(row.element_id, {"earliest": len(dates), "deadline": len(dates),
                                                    "line": pa.location.line})
        entry["earliest"] = min(entry["earliest"], _phase_after(dates, start))
        if isinstance(a, Withdraw):
            entry["deadline"] = min(entry["deadline"], _phase_of(dates, by))
        elif isinstance(a, Reduce):
            ceilings.setdefault(pa.location.line, Ceiling(a.in_, _phase_of(dates, by), a.to, [], pa.location.line))
    ids = sorted(elements)
    frame = first_present.loc[ids].copy() if ids else first_present.iloc[0:0].copy()
    frame["earliest"] = [elements[e]["earliest"] for e in ids]
    frame["deadline"] = [elements[e]["deadline"] for e in ids]
    frame["line"] = [elements[e]["line"] for e in ids]
    frame["bn_eq"] = [float(p) if types.at[t, "power_unit"] == "bn_eq" else 0.0
                      for p, t in zip(frame["power"], frame["unit_type"])]
    for ceiling in ceilings.values():  # the ceiling is on every decided US element in the country
        ceiling.elements = [e for e in ids if frame.at[e, "country"] == ceiling.country]
    frame["measure"] = [
        (float(p) if float(p) > 0 else float(n) / float(types.at[t, "personnel"]))
        for p, n, t in zip(frame["power"], frame["personnel"], frame["unit_type"])]

    # --- US personnel and capability not decided here, per phase (from the timeline) -----------------------
    fixed = holdings[(holdings["owner"] == "USA") & ~holdings["element_id"].isin(ids)]
    countries = sorted(set(holdings.loc[holdings["owner"] == "USA", "country"]))
    us_fixed = (fixed.groupby(["country", "phase"])["personnel"].sum().unstack("phase")
                .reindex(index=countries, columns=range(len(dates))).fillna(0.0))
    cap_fixed = pd.DataFrame(0.0, index=list(CAPABILITIES), columns=range(len(dates)))
    for row in fixed[fixed["category"].isin(CAPABILITIES)].itertuples():
        power = float(row.power) if float(row.power) > 0 else float(row.personnel) / float(types.at[row.unit_type, "personnel"])
        cap_fixed.at[row.category, row.phase] += power
    target = pd.Series(0.0, index=list(CAPABILITIES))
    for c in settings["replace"]:
        target[c] = cap_fixed.at[c, 0] + float(frame.loc[frame["category"] == c, "measure"].sum())

    # --- deterrence per theatre -------------------------------------------------------------------------
    theatres_all = list(data.tables["theatres"]["id"])
    theatres = list(block.theatres) if block and block.theatres else theatres_all
    member = pd.DataFrame(0.0, index=ids, columns=theatres)
    baseline = pd.DataFrame(0.0, index=theatres, columns=range(len(dates)))
    required = pd.DataFrame(0.0, index=theatres, columns=range(len(dates)))
    cache: dict[tuple[str, tuple[str, ...]], float | None] = {}
    for t in theatres:
        where = theatre_countries(data, t)
        member.loc[[e for e in ids if frame.at[e, "country"] in where], t] = 1.0
        warning = float(params.get(f"campaign.{t}.warning_days", 7))
        for k, date in enumerate(dates):
            posture = holdings[(holdings["phase"] == k) & holdings["country"].isin(where)
                               & ~holdings["owner"].isin(ADVERSARIES) & (holdings["power_unit"] == "bn_eq")
                               & (holdings["status"] != "backfill") & ~holdings["element_id"].isin(ids)]
            national = sum(float(u["bn_eq"]) for u in _national(data, where, date))
            baseline.at[t, k] = float(posture["power"].sum()) + national
            state = data.adversary_on(date, t)
            # US air in Europe on that date, as the scenario's timeline has it (the decided elements at their
            # scenario timing: an approximation the optimiser does not revisit)
            # rounded to whole squadrons: the requirement barely moves with a few aircraft, and each distinct
            # value costs a requirement search
            aircraft = 24.0 * round(us_aircraft(data, holdings[holdings["phase"] == k], date) / 24.0)
            key = (t, aircraft, tuple(sorted(map(tuple, state.astype(str).to_numpy().tolist()))))
            if key not in cache:
                cache[key] = requirement(data, t, date, hold_days=settings["hold_days"],
                                         probability=settings["probability"], warning_days=warning, seed=seed,
                                         samples=samples, backend=backend, aircraft=aircraft, parameters=params)
            value = cache[key]
            required.at[t, k] = 0.0 if value is None else value
    decided = member.T.dot(frame["bn_eq"]) if ids else pd.Series(0.0, index=theatres)
    today = baseline[0] + decided
    floor = required.copy()
    for t in theatres:
        floor.loc[t] = np.minimum(required.loc[t].to_numpy(), today[t])

    # --- European options, budgets and recruitment ------------------------------------------------------
    nations_sel = block.nations if block and block.nations else Selector(groups=["nato_europe"])
    nations = resolve_nations(data, nations_sel)
    if block and block.opt_out:
        nations = [n for n in nations if n not in set(block.opt_out)]
    table = data.nations.set_index("iso3")
    nations = [n for n in nations if n in table.index and bool(table.at[n, "armed_forces"])
               and not pd.isna(table.at[n, "gdp_usd_bn"]) and not pd.isna(table.at[n, "milex_usd_m"])]
    book = CostBook.from_parameters(data, params)
    gdp = pd.Series(gdp_base(book, nations))
    nations = [n for n in nations if n in gdp.index]
    options_table = data.tables["force_options"]
    wanted = list(block.unit_types) if block and block.unit_types else list(options_table["unit_type"])
    rows = []
    for r in options_table[options_table["unit_type"].isin(wanted)].itertuples():
        cost = book.unit(r.unit_type)
        t = types.loc[r.unit_type]
        rows.append({"unit_type": r.unit_type, "personnel": int(t["personnel"]), "category": t["category"],
                     "bn_eq": float(t["power"]) if t["power_unit"] == "bn_eq" else 0.0,
                     "measure": _measure(t), "acquisition": cost.acquisition.mid, "annual": cost.annual.mid,
                     "lead_phases": lead_phases(dates, float(r.lead_years))})
    options = (pd.DataFrame(rows).set_index("unit_type") if rows else
               pd.DataFrame(columns=["personnel", "category", "bn_eq", "measure", "acquisition", "annual",
                                     "lead_phases"], index=pd.Index([], name="unit_type")))
    recipes = data.tables["unit_recipes"]
    recipes = recipes[recipes["unit_type"].isin(options.index)]
    recipe = (recipes.pivot_table(index="unit_type", columns="resource", values="per_unit", aggfunc="sum")
              .reindex(options.index).fillna(0.0))
    capacity = production_capacity(data, list(recipe.columns), dates, years)
    headroom = pd.DataFrame(0.0, index=nations, columns=range(len(dates)))
    first_year, target_year = dates[0].year, settings["budget_target_year"]
    for n in nations:
        milex = book.to_base(float(table.at[n, "milex_usd_m"]), int(table.at[n, "milex_year"]))
        now = 100.0 * milex / gdp[n]
        for k, date in enumerate(dates):
            progress = min(1.0, max(0.0, (date.year - first_year) / max(1, target_year - first_year)))
            pct = now + (max(now, settings["budget_target_pct"]) - now) * progress
            headroom.at[n, k] = max(0.0, gdp[n] * pct / 100.0 - milex) * years[k]
    headroom = headroom.where(headroom > 1e-6, 0.0)
    capped = [n for n in nations if headroom.loc[n].sum() <= 0.0]  # already at or above the ceiling throughout
    settings["at_ceiling"] = capped
    nations = [n for n in nations if n not in capped]
    headroom = headroom.loc[nations]
    gdp = gdp.loc[nations]
    if nations and settings["max_share"] * len(nations) < 1.0:
        raise ScenarioError.single(
            f"max_share {settings['max_share']:g} with {len(nations)} nations able to add forces cannot cover the "
            f"whole cost (it needs at least 1/{len(nations)} = {1 / len(nations):.3f})",
            parsed.locate(("roadmap", "max_share")) if block and block.max_share else None, field="roadmap.max_share",
            suggestion="raise max_share, or let more nations add forces")
    recruits = pd.Series({n: settings["recruit_share"] * float(table.at[n, "active_personnel"])
                          if not pd.isna(table.at[n, "active_personnel"]) else 0.0 for n in nations})
    if lift_per_phase is None:
        lift_per_phase = float("inf")
    return Problem(
        name=header.name, dates=dates, years=years, objective=settings["objective"],
        elements=frame, element_theatres=member, ceilings=list(ceilings.values()), us_fixed_personnel=us_fixed,
        theatres=theatres, baseline=baseline, required=required, floor=floor,
        capability_target=target, capability_fixed=cap_fixed, nations=nations, options=options,
        recipe=recipe, capacity=capacity, headroom=headroom, recruits=recruits, gdp=gdp, lift_per_phase=float(lift_per_phase),
        max_share=settings["max_share"], time_limit=settings["time_limit"], mip_gap=settings["mip_gap"],
        settings=settings)


def production_capacity(data: Dataset, resources: list[str], dates: list[dt.date], years: np.ndarray) -> pd.DataFrame:
    """Items of each resource European (and allied) industry can deliver per phase: the chosen row of every
    producer summed, at its current rate, then its announced rate from the ramp year on."""
    table = data.tables["production_rates"]
    table = table[table["chosen"].astype(bool) & table["resource"].isin(resources)]
    out = pd.DataFrame(0.0, index=resources, columns=range(len(dates)))
    for row in table.itertuples():
        now = 0.0 if pd.isna(row.units_per_year) else float(row.units_per_year)
        later = now if pd.isna(row.ramp_units_per_year) else float(row.ramp_units_per_year)
        ramp = None if pd.isna(row.ramp_year) else int(row.ramp_year)
        for k, date in enumerate(dates):
            rate = later if (ramp is not None and date.year >= ramp) or (ramp is None and now == 0.0) else now
            out.at[row.resource, k] += rate * years[k]
    return out


__all__ = ["Problem", "Ceiling", "build_problem", "requirement", "phase_years", "lead_phases", "CAPABILITIES"]
