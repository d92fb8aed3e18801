"""The roadmap optimiser in linopy: one function per constraint family, over named dimensions.

Dimensions: ``element`` (US force elements whose departure the optimiser times), ``phase``, ``nation``
(European nations that may add forces), ``option`` (unit types they may add), ``theatre`` and ``capability``.

Variables: ``stay[element, phase]`` is 1 while an element is still in Europe (binary, monotone: once gone,
gone); ``add[nation, option, phase]`` the units a nation fields in a phase (continuous: fractional brigades read
as partial capability, which keeps the solve fast, see ``shared/NOTES.md``); ``post[option, theatre, phase]``
the added units stationed in each theatre (drawn from the European pool, like NATO's forward battlegroups).

With ``elastic=True`` every family gets a non-negative slack and the objective is their weighted sum: the
families whose slack stays positive are the ones that conflict (how infeasibility is explained).
"""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from drawdown.roadmap.problem import CAPABILITIES, Problem

#: Weight of the secondary objective terms (tie-breakers only).
EPSILON = 1e-6
#: Weight of the GDP-share tie-break relative to cost.
FAIRNESS = 1e-3
#: Scale of each family's slack in the elastic model (so no unit dominates the sum).
SLACK_SCALE = {"deterrence": 1.0, "capability": 1.0, "budget": 1e-3, "production": 1.0, "recruitment": 1e-3,
               "lift": 1e-3, "ceiling": 1e-3, "deadline": 1.0, "share": 1e-3}


class Builder:
    """Holds the model, its coordinates and the expressions the families share."""

    def __init__(self, problem: Problem, *, fixed_stay: pd.DataFrame | None = None, elastic: bool = False):
        self.p = problem
        self.elastic = elastic
        self.m = linopy.Model()
        self.P = pd.RangeIndex(problem.phases, name="phase")
        self.E = pd.Index(problem.elements.index, name="element")
        self.N = pd.Index(problem.nations, name="nation")
        self.U = pd.Index(problem.options.index, name="option")
        self.T = pd.Index(problem.theatres, name="theatre")
        self.years = xr.DataArray(problem.years, coords=[self.P])
        self.slacks: dict[str, linopy.Variable] = {}
        self.fixed_stay = fixed_stay
        self._variables()

    # ---- helpers -----------------------------------------------------------------------------------------
    def da(self, values: Any, *indexes: pd.Index) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, dtype=float).reshape([len(i) for i in indexes]), coords=list(indexes))

    def has_elements(self) -> bool:
        return len(self.E) > 0

    def slack(self, family: str, *indexes: pd.Index) -> linopy.Variable | int:
        if not self.elastic:
            return 0
        name = f"slack_{family}"
        if name in self.m.variables:
            return self.m.variables[name]
        variable = self.m.add_variables(lower=0, coords=list(indexes), name=name)
        self.slacks[family] = variable
        return variable

    # ---- variables ---------------------------------------------------------------------------------------
    def _variables(self) -> None:
        p = self.p
        if self.has_elements():
            if self.fixed_stay is not None:
                values = self.da(self.fixed_stay.loc[self.E, list(self.P)].to_numpy(), self.E, self.P)
                self.stay = self.m.add_variables(lower=values, upper=values, name="stay")
            else:
                self.stay = self.m.add_variables(binary=True, coords=[self.E, self.P], name="stay")
        self.europe = len(self.N) > 0 and len(self.U) > 0
        self.cost_by_nation: Any = None
        if not self.europe:  # nobody may add forces (all opted out or at their ceiling, or no unit types)
            return
        lead = p.options["lead_phases"].to_numpy()
        upper = np.where(np.arange(p.phases)[None, :] < lead[:, None], 0.0, np.inf)
        upper = np.broadcast_to(upper[None, :, :], (len(self.N), len(self.U), p.phases))
        self.add = self.m.add_variables(lower=0, upper=self.da(upper, self.N, self.U, self.P), name="add")
        self.post = self.m.add_variables(lower=0, coords=[self.U, self.T, self.P], name="post")
        # units in service and each nation's spending are variables tied by equalities (a sparse model: writing
        # them as cumulative sums makes every row dense and the LP several times slower)
        self.fielded = self.m.add_variables(lower=0, coords=[self.N, self.U, self.P], name="fielded")
        self.m.add_constraints(self.fielded - self.fielded.shift(phase=1).fillna(0) - self.add == 0, name="in_service")
        acquisition = self.da(p.options["acquisition"], self.U)
        annual = self.da(p.options["annual"], self.U)
        self.spend = self.m.add_variables(lower=0, coords=[self.N, self.P], name="spend")
        self.m.add_constraints(self.spend - (self.add * acquisition + self.fielded * annual * self.years).sum("option") == 0,
                               name="spending")
        self.cost_by_nation_phase = self.spend
        self.total = self.m.add_variables(lower=0, coords=[self.N], name="total")
        self.m.add_constraints(self.total - self.spend.sum("phase") == 0, name="total_by_nation")
        self.cost_by_nation = self.total

    # ---- constraint families -----------------------------------------------------------------------------
    def monotone(self) -> None:
        """Once an element has left it does not come back."""
        if not self.has_elements():
            return
        self.m.add_constraints(self.stay - self.stay.shift(phase=1).fillna(1) <= 0, name="monotone")

    def windows(self) -> None:
        """An element stays until its action's start and is gone by its action's deadline (the end state)."""
        if not self.has_elements():
            return
        phase = np.arange(self.p.phases)[None, :]
        early = phase < self.p.elements["earliest"].to_numpy()[:, None]
        late = phase >= self.p.elements["deadline"].to_numpy()[:, None]
        self.m.add_constraints(self.stay >= 1, mask=self.da(early, self.E, self.P).astype(bool), name="not_before_start")
        overdue = self.slack("deadline", self.E, self.P)
        self.m.add_constraints(self.stay - overdue <= 0, mask=self.da(late, self.E, self.P).astype(bool),
                               name="end_state")

    def deterrence(self) -> None:
        """Per theatre and phase: defenders present (others + remaining US + added European units stationed
        there) at least the floor; under the shortfall objective, the full requirement less a shortfall."""
        p = self.p
        if not self.europe and not self.has_elements():
            return  # nothing to decide moves it; check() reports a floor the data alone breaks
        present: Any = (self.post * self.da(p.options["bn_eq"], self.U)).sum("option") if self.europe else 0
        if self.has_elements():
            weight = self.da(p.element_theatres.loc[self.E, list(self.T)].to_numpy()
                             * p.elements["bn_eq"].to_numpy()[:, None], self.E, self.T)
            present = present + (self.stay * weight).sum("element")
        if p.objective == "shortfall":
            self.shortfall = self.m.add_variables(lower=0, coords=[self.T, self.P], name="shortfall")
            need = p.required
            present = present + self.shortfall
        else:
            need = p.floor
        rhs = self.da((need - p.baseline).loc[list(self.T), list(self.P)].to_numpy(), self.T, self.P)
        self.m.add_constraints(present + self.slack("deterrence", self.T, self.P) >= rhs, name="deterrence")

    def stationing(self) -> None:
        """Units stationed in theatres come from those fielded."""
        if not self.europe:
            return
        self.m.add_constraints(self.post.sum("theatre") - self.fielded.sum("nation") <= 0, name="stationing")

    def capability(self) -> None:
        """Like-for-like: US capability remaining plus European capability added keeps the start's level."""
        p = self.p
        cats = [c for c in CAPABILITIES if p.capability_target[c] > 0]
        if not cats:
            return
        C = pd.Index(cats, name="capability")
        have: Any = 0
        if self.europe:
            unit_w = self.da([[float(p.options.at[u, "measure"]) if p.options.at[u, "category"] == c else 0.0
                               for c in cats] for u in self.U], self.U, C)
            have = (self.fielded.sum("nation") * unit_w).sum("option")
        elif not self.has_elements():
            return
        if self.has_elements():
            elem_w = self.da([[float(r["measure"]) if r["category"] == c else 0.0 for c in cats]
                              for _, r in p.elements.iterrows()], self.E, C)
            have = have + (self.stay * elem_w).sum("element")
        rhs = self.da(np.array([[p.capability_target[c] - p.capability_fixed.at[c, k] for k in self.P] for c in cats]),
                      C, self.P)
        if p.objective == "shortfall":
            self.capability_shortfall = self.m.add_variables(lower=0, coords=[C, self.P], name="capability_shortfall")
            have = have + self.capability_shortfall
        self.m.add_constraints(have + self.slack("capability", C, self.P) >= rhs, name="capability")

    def budget(self) -> None:
        """What a nation adds in a phase (acquisition on delivery plus running costs) fits its headroom under
        the spending ceiling that ramps to the target share of GDP."""
        if not self.europe:
            return
        rhs = self.da(self.p.headroom.loc[list(self.N), list(self.P)].to_numpy(), self.N, self.P)
        self.m.add_constraints(self.cost_by_nation_phase - self.slack("budget", self.N, self.P) <= rhs, name="budget")

    def production(self) -> None:
        """Europe-wide deliveries per phase within industry's rate for every produced resource (tanks, IFVs,
        guns, fire units, aircraft, ships) that the added units need."""
        p = self.p
        if not self.europe or p.recipe.shape[1] == 0:
            return
        R = pd.Index(p.recipe.columns, name="resource")
        need = self.da(p.recipe.loc[list(self.U), list(R)].to_numpy(), self.U, R)
        rhs = self.da(p.capacity.loc[list(R), list(self.P)].to_numpy(), R, self.P)
        self.m.add_constraints((self.add.sum("nation") * need).sum("option") - self.slack("production", R, self.P)
                               <= rhs, name="production")

    def recruitment(self) -> None:
        """A nation's new units' personnel per phase within its yearly recruitment headroom."""
        if not self.europe:
            return
        p = self.p
        staff = self.da(p.options["personnel"], self.U)
        rhs = self.da(np.outer(p.recruits.loc[list(self.N)].to_numpy(), p.years), self.N, self.P)
        self.m.add_constraints((self.add * staff).sum("option") - self.slack("recruitment", self.N, self.P) <= rhs,
                               name="recruitment")

    def lift(self) -> None:
        """Personnel leaving Europe per phase within the withdrawal lift (movement engine)."""
        p = self.p
        if not self.has_elements() or not np.isfinite(p.lift_per_phase):
            return
        staff = self.da(p.elements["personnel"], self.E)
        leaving = ((self.stay.shift(phase=1).fillna(1) - self.stay) * staff).sum("element")
        self.m.add_constraints(leaving - self.slack("lift", self.P) <= p.lift_per_phase, name="lift")

    def ceilings(self) -> None:
        """Each reduce action: the owner's personnel in the country at most the ceiling from its deadline."""
        p = self.p
        for i, ceiling in enumerate(p.ceilings):
            staff = self.da([float(p.elements.at[e, "personnel"]) if e in ceiling.elements else 0.0 for e in self.E],
                            self.E)
            fixed = (p.us_fixed_personnel.loc[ceiling.country].to_numpy()
                     if ceiling.country in p.us_fixed_personnel.index else np.zeros(p.phases))
            rhs = self.da(ceiling.personnel - fixed, self.P)
            mask = xr.DataArray(np.arange(p.phases) >= ceiling.first, coords=[self.P])
            self.m.add_constraints((self.stay * staff).sum("element") - self.slack(f"ceiling_{i}", self.P) <= rhs,
                                   mask=mask, name=f"ceiling_{i}")

    def share(self) -> None:
        """No nation carries more than ``max_share`` of the added cost."""
        if not self.europe or self.p.max_share >= 1.0 or len(self.N) < 2:
            return
        total = self.cost_by_nation.sum("nation")
        self.m.add_constraints(self.cost_by_nation - self.p.max_share * total - self.slack("share", self.N) <= 0,
                               name="share")

    def symmetry(self) -> None:
        """Identical elements (same type, place, window and effect) leave in a fixed order."""
        if not self.has_elements() or self.fixed_stay is not None:
            return
        e = self.p.elements
        keys = ["unit_type", "category", "country", "personnel", "bn_eq", "measure", "earliest", "deadline"]
        groups = e.assign(theatres=[tuple(self.p.element_theatres.loc[i]) for i in e.index]).groupby(keys + ["theatres"])
        pairs = [(a, b) for _, group in groups for a, b in zip(group.index, group.index[1:])]
        if not pairs:
            return
        D = pd.RangeIndex(len(pairs), name="pair")
        order = np.zeros((len(pairs), len(self.E)))
        position = {element: i for i, element in enumerate(self.E)}
        for row, (a, b) in enumerate(pairs):
            order[row, position[a]], order[row, position[b]] = 1.0, -1.0
        self.m.add_constraints((self.stay * self.da(order, D, self.E)).sum("element") >= 0, name="symmetry")

    def fairness(self) -> None:
        """Tie-break: where the objective does not care who adds what, share the cost in proportion to GDP
        (deviation variables priced at a thousandth of the cost: the term can move the optimum by at most about
        0.2 % of the cost). Left out of the pricing LP, whose duals must price the true objective only."""
        if not self.europe or len(self.N) < 2 or self.fixed_stay is not None:
            return
        share = self.da((self.p.gdp.loc[list(self.N)] / self.p.gdp.loc[list(self.N)].sum()).to_numpy(), self.N)
        self.deviation = self.m.add_variables(lower=0, coords=[self.N], name="deviation")
        gap = self.cost_by_nation - share * self.cost_by_nation.sum("nation")
        self.m.add_constraints(self.deviation - gap >= 0, name="fair_above")
        self.m.add_constraints(self.deviation + gap >= 0, name="fair_below")

    # ---- objective ---------------------------------------------------------------------------------------
    def troop_years(self) -> Any:
        if not self.has_elements():
            return 0
        staff = self.da(self.p.elements["personnel"], self.E)
        return (self.stay * staff * self.years).sum()

    def objective(self) -> None:
        cost: Any = self.cost_by_nation.sum() if self.europe else 0
        if hasattr(self, "deviation"):
            cost = cost + FAIRNESS * self.deviation.sum()
        if self.elastic:
            terms = [(v * SLACK_SCALE.get(k.split("_")[0], 1e-3) * self.years).sum()
                     if "phase" in v.dims else (v * SLACK_SCALE.get(k.split("_")[0], 1e-3)).sum()
                     for k, v in self.slacks.items()]
            expression = sum(terms[1:], terms[0]) if terms else cost * EPSILON
            self.m.add_objective(expression + EPSILON * cost)
            return
        if self.p.objective == "cost":
            self.m.add_objective(cost + EPSILON * self.troop_years())
        elif self.p.objective == "time":
            self.m.add_objective(self.troop_years() + EPSILON * cost)
        else:
            short = (self.shortfall * self.years).sum()
            if hasattr(self, "capability_shortfall"):
                short = short + (self.capability_shortfall * self.years).sum()
            self.m.add_objective(short + EPSILON * cost)


FAMILIES = ("monotone", "windows", "deterrence", "stationing", "capability", "budget", "production", "recruitment",
            "lift", "ceilings", "share", "symmetry", "fairness")


def build_model(problem: Problem, *, fixed_stay: pd.DataFrame | None = None, elastic: bool = False) -> Builder:
    """The linopy model of ``problem`` (``fixed_stay``: departures fixed, an LP whose duals price the rest)."""
    builder = Builder(problem, fixed_stay=fixed_stay, elastic=elastic)
    for family in FAMILIES:
        getattr(builder, family)()
    builder.objective()
    return builder
