"""Compile a parsed scenario into a posture timeline: who is where, with what, on every phase date.

The timeline is the dated history of snapshots that every engine maps over (the MARATHON/M4 idea: supply,
demand and policy kept apart, analysis as a map over the history). It is computed phase by phase:

1. scheduled changes from the data (elements whose ``valid_from``/``valid_to`` fall in the phase) apply;
2. the scenario's actions apply in file order, each moving the cumulative amount it has reached by the phase
   date (a linear ramp between its ``start`` and ``by``);
3. the state is recorded.

Personnel are whole people and are conserved: for every owner and phase,
``initial + scheduled_in + deployed + backfilled = present + withdrawn + scheduled_out`` (see
``docs/models/timeline.md``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from drawdown.data import Dataset
from drawdown.errors import Location, Problem, ScenarioError, did_you_mean
from drawdown.scenario.model import (
    Alert,
    Backfill,
    Backstop,
    Deploy,
    Forbid,
    Keep,
    MoveOptions,
    Reduce,
    Selector,
    Set,
    Shift,
    Withdraw,
)
from drawdown.scenario.parse import ParsedAction, ParsedScenario

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}


# ---------------------------------------------------------------------------------------------- helpers
def phase_dates(start: dt.date, horizon: dt.date, step: str) -> list[dt.date]:
    """Phase dates: ``start``, then every ``step`` after it, and ``horizon`` itself as the last phase."""
    months = STEP_MONTHS[step]
    dates = [start]
    k = 1
    while True:
        total = start.month - 1 + k * months
        year, month = start.year + total // 12, total % 12 + 1
        day = min(start.day, _days_in_month(year, month))
        date = dt.date(year, month, day)
        if date >= horizon:
            break
        dates.append(date)
        k += 1
    dates.append(horizon)
    return dates


def _days_in_month(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


def ramp(date: dt.date, start: dt.date, by: dt.date, profile: str = "linear") -> float:
    """Share of an action done by ``date``: 0 before ``start``, 1 from ``by``, linear in between."""
    if date >= by:
        return 1.0
    if date < start or profile == "step":
        return 0.0
    return (date - start).days / max((by - start).days, 1)


#: Lift figures that may be 0 (a fleet with no aircraft, no delay); every other one divides something.
ZERO_ALLOWED_LIFT = frozenset({"available", "fleet", "ships", "mission_capable", "committed_share", "activation_days",
                               "gauge_change_hours", "onload_hours", "offload_hours", "load_days", "unload_days",
                               "rsoi_days", "rsoi_days_light", "draw_days", "light_hours", "heavy_hours",
                               "outsize", "passengers", "payload_stons"})


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split a whole number in proportion to ``weights`` so that the parts add up exactly (largest remainder)."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    if short > 0:
        order = np.argsort(-(exact - parts), kind="stable")
        parts[order[:short]] += 1
    return [int(p) for p in parts]


@dataclass
class Holding:
    """Some personnel of one force element at one place."""

    element_id: str
    owner: str
    name: str
    unit_type: str
    category: str
    country: str
    site: str | None
    personnel: int
    power_per_person: float
    power_unit: str
    status: str  # in_place | moved | deployed | backfill
    mission: str
    action_line: int | None = None


# ---------------------------------------------------------------------------------------------- results
@dataclass
class PostureTimeline:
    """Every phase's posture, the withdrawals and additions that led to it, and the actions behind them."""

    name: str
    start: dt.date
    horizon: dt.date
    step: str
    dates: list[dt.date]
    holdings: pd.DataFrame
    withdrawals: pd.DataFrame
    ledger: pd.DataFrame
    events: pd.DataFrame
    alerts: pd.DataFrame
    commitments: pd.DataFrame
    parameters: dict[str, Any]
    warnings: list[Problem] = field(default_factory=list)

    def at(self, phase: int) -> pd.DataFrame:
        """Holdings on one phase."""
        return self.holdings[self.holdings["phase"] == phase]

    def to_frame(self) -> pd.DataFrame:
        return self.holdings.copy()


HOLDING_COLUMNS = [
    "phase", "date", "element_id", "owner", "name", "unit_type", "category", "country", "site",
    "personnel", "power", "power_unit", "status", "mission", "action_line",
]
WITHDRAWAL_COLUMNS = [
    "phase", "date", "element_id", "owner", "unit_type", "category", "country", "site", "personnel", "power",
    "power_unit", "reason", "action_line",
]


# ---------------------------------------------------------------------------------------------- compiler
def lift_paths(data: Dataset) -> set[str]:
    """`set` paths of the movement engine's figures: lift.ASSET.PARAMETER, and lift.FLEET.available for air and
    sea fleets (their number of aircraft or ships)."""
    lift = data.tables.get("lift_parameters")
    assets = data.tables.get("lift_assets")
    paths = set() if lift is None else {f"lift.{r.asset}.{r.parameter}" for r in lift.itertuples()}
    if assets is not None:
        paths |= {f"lift.{x}.available" for x in assets[assets["mode"].isin(["air", "sea"])]["id"]}
    return paths


def settable_paths(data: Dataset) -> set[str]:
    """Every path a scenario may `set`: the parameters table, campaign coefficients and the lift figures."""
    coefficients = {f"campaign.coefficient.{n}" for n in data.tables["campaign_coefficients"]["name"]}
    return set(data.parameters["path"]) | coefficients | lift_paths(data)


def resolve_nations(data: Dataset, selector: Selector) -> list[str]:
    """Nations named by a nations selector (AND across keys, OR within a list), in table order."""
    sets: list[frozenset[str]] = []
    if selector.countries:
        sets.append(frozenset(selector.countries))
    if selector.groups:
        sets.append(frozenset().union(*(data.groups.get(g, frozenset()) for g in selector.groups)))
    if selector.nato_joined_after is not None:
        sets.append(data.members_joined_after(selector.nato_joined_after))
    chosen = frozenset.intersection(*sets) if sets else frozenset()
    return [c for c in data.nations["iso3"] if c in chosen]


class _Compiler:
    def __init__(self, scenario: ParsedScenario, data: Dataset):
        self.scenario = scenario
        self.header = scenario.header
        self.data = data
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.dates = phase_dates(self.header.start, self.header.horizon, self.header.step)
        self.elements = data.force_elements.set_index("id", drop=False)
        self.element_ids = frozenset(self.elements.index)
        self.keeps: list[tuple[ParsedAction, Selector]] = []

    # ---- problems ----------------------------------------------------------------------------
    def error(self, action: ParsedAction | None, message: str, field: tuple[str | int, ...] = (),
              suggestion: str | None = None, *, key: bool = False) -> None:
        path = (action.path if action else ()) + field
        location = self.scenario.locate(path, key=key) if path else Location(self.scenario.path)
        name = ".".join(str(p) for p in field) or None
        self.problems.append(Problem(message, location, field=name, suggestion=suggestion))

    def warn(self, action: ParsedAction, message: str) -> None:
        self.warnings.append(Problem(message, action.location, field=action.kind))

    # ---- static checks -----------------------------------------------------------------------
    def check_codes(self, action: ParsedAction, selector: Selector | None, field: str | None, *,
                    nations: bool = False) -> None:
        """Every code a selector names must exist in the data (``field`` None: the selector keys sit directly in
        the action, as in ``keep``)."""
        if selector is None:
            return
        checks = {
            "countries": self.data.nation_codes,
            "sites": self.data.site_ids,
            "units": self.element_ids,
            "unit_types": self.data.unit_type_ids,
            "groups": frozenset(self.data.groups),
        }
        prefix: tuple[str, ...] = (field,) if field else ()
        label = {"countries": "country", "sites": "site", "units": "force element", "unit_types": "unit type",
                 "groups": "group"}
        for key, valid in checks.items():
            values = getattr(selector, key)
            if not values:
                continue
            if nations and key in ("sites", "units", "unit_types"):
                self.error(action, f"'{key}' cannot select nations; use countries, groups or nato_joined_after",
                           (*prefix, key), key=True)
                continue
            for i, value in enumerate(values):
                if value not in valid:
                    self.error(action, f"unknown {label[key]} '{value}'", (*prefix, key, i),
                               did_you_mean(value, valid))

    def check_nation(self, action: ParsedAction, code: str, field: str) -> None:
        if code not in self.data.nation_codes:
            self.error(action, f"unknown country '{code}'", (field,), did_you_mean(code, self.data.nation_codes))

    def check_dates(self, action: ParsedAction) -> None:
        a = action.action
        start, horizon = self.header.start, self.header.horizon
        for name in ("start", "by", "until"):
            value = getattr(a, name, None)
            if value is None:
                continue
            if not start <= value <= horizon:
                self.error(action, f"{value} is outside the scenario ({start} to {horizon})", (name,),
                           "move the date inside the horizon or extend 'horizon'")
        a_start = getattr(a, "start", None) or start
        for name in ("by", "until"):
            end = getattr(a, name, None)
            if end is not None and end < a_start:
                self.error(action, f"'{name}' {end} is before the action's start {a_start}", (name,))

    def resolve_nations(self, selector: Selector) -> list[str]:
        return resolve_nations(self.data, selector)

    def destinations(self, selector: Selector) -> list[tuple[str, str | None]]:
        """(country, site) places named by a destination selector: sites as given, countries at their primary site."""
        places: list[tuple[str, str | None]] = []
        for site in selector.sites or []:
            if site in self.data.site_ids:
                places.append((self.data.site_country(site), site))
        countries = list(selector.countries or [])
        if selector.groups or selector.nato_joined_after is not None:
            countries += [c for c in self.resolve_nations(Selector(groups=selector.groups,
                                                                   nato_joined_after=selector.nato_joined_after))
                          if c not in countries]
        for country in countries:
            if country in self.data.nation_codes:
                places.append((country, self.data.primary_site(country)))
        return places

    # ---- matching ----------------------------------------------------------------------------
    def matches(self, holding: Holding, selector: Selector) -> bool:
        if selector.countries and holding.country not in selector.countries:
            return False
        if selector.sites and holding.site not in selector.sites:
            return False
        if selector.units and holding.element_id not in selector.units:
            return False
        if selector.unit_types and holding.unit_type not in selector.unit_types:
            return False
        if selector.groups:
            members = frozenset().union(*(self.data.groups.get(g, frozenset()) for g in selector.groups))
            if holding.country not in members:
                return False
        if selector.nato_joined_after is not None:
            if holding.country not in self.data.members_joined_after(selector.nato_joined_after):
                return False
        return True

    def kept(self, holding: Holding) -> bool:
        return any(keep.action.who == holding.owner and self.matches(holding, sel) for keep, sel in self.keeps)

    # ---- the run -----------------------------------------------------------------------------
    def static_checks(self) -> None:
        reduces: list[ParsedAction] = []
        withdraws: list[ParsedAction] = []
        shifts: list[ParsedAction] = []
        for pa in self.scenario.actions:
            a = pa.action
            self.check_dates(pa)
            if hasattr(a, "who") and isinstance(a.who, str):
                self.check_nation(pa, a.who, "who")
            if isinstance(a, MoveOptions):
                self.check_move_options(pa, a)
            if isinstance(a, Withdraw):
                self.check_codes(pa, a.from_, "from")
                withdraws.append(pa)
            elif isinstance(a, Keep):
                self.check_codes(pa, a.selector(), None)
                self.keeps.append((pa, a.selector()))
            elif isinstance(a, Reduce):
                self.check_nation(pa, a.in_, "in")
                reduces.append(pa)
            elif isinstance(a, Shift):
                self.check_codes(pa, a.from_, "from")
                self.check_destination(pa, a.to)
                shifts.append(pa)
            elif isinstance(a, Deploy):
                self.check_codes(pa, a.who, "who", nations=True)
                self.check_destination(pa, a.to)
                if a.unit_type not in self.data.unit_type_ids:
                    self.error(pa, f"unknown unit type '{a.unit_type}'", ("unit_type",),
                               did_you_mean(a.unit_type, self.data.unit_type_ids))
                self.check_armed(pa, self.resolve_nations(a.who))
            elif isinstance(a, Alert):
                self.check_destination(pa, a.to)
                if a.unit_type and a.unit_type not in self.data.unit_type_ids:
                    self.error(pa, f"unknown unit type '{a.unit_type}'", ("unit_type",),
                               did_you_mean(a.unit_type, self.data.unit_type_ids))
            elif isinstance(a, Backstop):
                self.check_nation(pa, a.for_, "for")
            elif isinstance(a, Backfill):
                self.check_codes(pa, a.who, "who", nations=True)
                self.check_nation(pa, a.of, "of")
            elif isinstance(a, Forbid):
                self.check_codes(pa, a.in_, "in")
            elif isinstance(a, Set):
                self.check_parameter(pa)
        self.check_contradictions(reduces, withdraws, shifts)
        self.check_contingency()
        self.check_blocks()
        first_record = min((d for d in self.data.force_elements["as_of"].dropna()), default=None)
        if first_record and self.header.start < first_record:
            self.warnings.append(Problem(
                f"the scenario starts on {self.header.start}, before the oldest figure in the force tables "
                f"({first_record}); elements without a valid_from are assumed present then",
                self.scenario.locate(("start",)), field="start"))

    def check_contingency(self) -> None:
        contingency = self.header.contingency
        if contingency is None:
            return
        base = ("contingency",)
        if contingency.defenders is None and not self.header.start <= contingency.date <= self.header.horizon:
            self.problems.append(Problem(
                f"{contingency.date} is outside the scenario ({self.header.start} to {self.header.horizon})",
                self.scenario.locate(base + ("date",)), field="contingency.date",
                suggestion="the attack uses the posture on that date: move it inside the horizon"))
        for key in ("defenders", "add_defenders"):
            forces = getattr(contingency, key) or {}
            for country, units in forces.items():
                if country not in self.data.nation_codes:
                    self.problems.append(Problem(f"unknown country '{country}'",
                                                 self.scenario.locate(base + (key, country), key=True),
                                                 field=f"contingency.{key}",
                                                 suggestion=did_you_mean(country, self.data.nation_codes)))
                for unit_type in units:
                    if unit_type not in self.data.unit_type_ids:
                        self.problems.append(Problem(f"unknown unit type '{unit_type}'",
                                                     self.scenario.locate(base + (key, country, unit_type), key=True),
                                                     field=f"contingency.{key}",
                                                     suggestion=did_you_mean(unit_type, self.data.unit_type_ids)))
        for i, unit in enumerate(contingency.reinforcements):
            where = base + ("reinforcements", i)
            for name, code, known in (("who", unit.who, self.data.nation_codes), ("to", unit.to, self.data.nation_codes),
                                      ("unit_type", unit.unit_type, self.data.unit_type_ids)):
                if code not in known:
                    what = "unit type" if name == "unit_type" else "country"
                    self.problems.append(Problem(f"unknown {what} '{code}'", self.scenario.locate(where + (name,)),
                                                 field=f"contingency.reinforcements.{name}",
                                                 suggestion=did_you_mean(code, known)))
            if unit.day > contingency.days:
                self.problems.append(Problem(
                    f"day {unit.day:g} is after the campaign's last day ({contingency.days})",
                    self.scenario.locate(where + ("day",)), field="contingency.reinforcements.day",
                    suggestion="raise contingency.days or drop the unit"))

    def block_problem(self, path: tuple[str | int, ...], message: str, suggestion: str | None = None, *,
                      key: bool = False) -> None:
        self.problems.append(Problem(message, self.scenario.locate(path, key=key),
                                     field=".".join(str(p) for p in path if not isinstance(p, int)),
                                     suggestion=suggestion))

    def check_selector_nations(self, path: tuple[str | int, ...], selector: Selector | None) -> None:
        if selector is None:
            return
        for key in ("sites", "units", "unit_types"):
            if getattr(selector, key):
                self.block_problem(path + (key,), f"'{key}' cannot select nations; use countries, groups or "
                                   "nato_joined_after", key=True)
        for i, code in enumerate(selector.countries or []):
            if code not in self.data.nation_codes:
                self.block_problem(path + ("countries", i), f"unknown country '{code}'",
                                   did_you_mean(code, self.data.nation_codes))
        for i, group in enumerate(selector.groups or []):
            if group not in self.data.groups:
                self.block_problem(path + ("groups", i), f"unknown group '{group}'", did_you_mean(group, self.data.groups))

    def check_blocks(self) -> None:
        """The `cost` and `roadmap` header blocks name real unit types, equipment and nations."""
        cost = self.header.cost
        if cost is not None:
            equipment = self.data.tables.get("equipment_costs")
            items = frozenset(equipment["item"]) if equipment is not None else frozenset()
            for i, item in enumerate(cost.items):
                if item.unit_type is not None and item.unit_type not in self.data.unit_type_ids:
                    self.block_problem(("cost", "items", i, "unit_type"), f"unknown unit type '{item.unit_type}'",
                                       did_you_mean(item.unit_type, self.data.unit_type_ids))
                names = [item.equipment] if isinstance(item.equipment, str) else list(item.equipment or [])
                for j, name in enumerate(names):
                    if name not in items:
                        where = ("cost", "items", i, "equipment") + ((j,) if not isinstance(item.equipment, str) else ())
                        self.block_problem(where, f"unknown equipment item '{name}'",
                                           did_you_mean(name, items) or "see `drawdown data show equipment_costs`")
            if cost.brigade_type is not None and cost.brigade_type not in self.data.unit_type_ids:
                self.block_problem(("cost", "brigade_type"), f"unknown unit type '{cost.brigade_type}'",
                                   did_you_mean(cost.brigade_type, self.data.unit_type_ids))
            self.check_selector_nations(("cost", "payers"), cost.payers)
        roadmap = self.header.roadmap
        if roadmap is not None:
            self.check_selector_nations(("roadmap", "nations"), roadmap.nations)
            for i, code in enumerate(roadmap.opt_out or []):
                if code not in self.data.nation_codes:
                    self.block_problem(("roadmap", "opt_out", i), f"unknown country '{code}'",
                                       did_you_mean(code, self.data.nation_codes))
            options = self.data.tables.get("force_options")
            known = frozenset(options["unit_type"]) if options is not None else frozenset()
            for i, unit_type in enumerate(roadmap.unit_types or []):
                if unit_type not in known:
                    self.block_problem(("roadmap", "unit_types", i),
                                       f"'{unit_type}' is not a unit type Europe can add (force_options)",
                                       did_you_mean(unit_type, known) or "choose from: " + ", ".join(sorted(known)))

    def check_destination(self, pa: ParsedAction, selector: Selector) -> None:
        """A destination is a place (countries, sites, groups, accession year) that names at least one place."""
        known = len(self.problems)
        self.check_codes(pa, selector, "to")
        if selector.units or selector.unit_types:
            self.error(pa, "a destination is a place: use countries, sites or groups", ("to",),
                       "e.g. to: {countries: [POL]} or to: {sites: [powidz]}")
        elif len(self.problems) == known and not self.destinations(selector):  # unknown codes already said
            self.error(pa, f"the destination {selector.describe()} names no place", ("to",))

    def check_armed(self, pa: ParsedAction, nations: list[str]) -> None:
        if not nations:
            self.error(pa, "selects no nation", ("who",))
        armed = dict(zip(self.data.nations["iso3"], self.data.nations["armed_forces"]))
        for nation in nations:
            if armed.get(nation) is False:
                self.error(pa, f"{nation} has no armed forces to deploy", ("who",))

    def check_move_options(self, pa: ParsedAction, a: MoveOptions) -> None:
        """Dedicated lift names aircraft or ship fleets; an origin is a place of the lift network."""
        assets = self.data.tables.get("lift_assets")
        fleets = [] if assets is None else sorted(assets[assets["mode"].isin(["air", "sea"])]["id"])
        for key in (a.lift or {}):
            if key.removesuffix("_available") not in fleets:
                self.error(pa, f"'{key}' is not an aircraft or ship fleet", ("lift",),
                           did_you_mean(key.removesuffix("_available"), fleets) or "one of " + ", ".join(fleets))
        origin = getattr(a, "origin", None)
        if origin is not None:
            nodes = self.data.tables.get("lift_nodes")
            places = set(self.data.site_ids) | (set() if nodes is None else set(nodes["id"]))
            looks_like_id = origin == origin.lower() and " " not in origin
            if origin not in places and (not isinstance(a, Alert) or looks_like_id):
                self.error(pa, f"unknown lift node '{origin}'", ("origin",),
                           did_you_mean(origin, places) or "see `drawdown data show lift_nodes`")

    def check_parameter(self, pa: ParsedAction) -> None:
        a: Set = pa.action  # type: ignore[assignment]
        if a.path.startswith("lift."):  # movement engine figures: lift.ASSET.PARAMETER (lift_parameters)
            paths = lift_paths(self.data)
            parameter = a.path.rsplit(".", 1)[-1]
            positive = parameter not in ZERO_ALLOWED_LIFT
            if a.path not in paths:
                self.error(pa, f"unknown lift parameter '{a.path}'", ("path",),
                           did_you_mean(a.path, sorted(paths)) or "see `drawdown data show lift_parameters`")
            elif isinstance(a.value, bool) or not isinstance(a.value, (int, float)) or a.value < 0 \
                    or (positive and a.value == 0):
                self.error(pa, f"'{a.path}' takes a number {'> 0' if positive else '>= 0'}, got {a.value!r}",
                           ("value",))
            return
        if a.path.startswith("campaign.coefficient."):  # fix one campaign coefficient (campaign_coefficients)
            names = set(self.data.tables["campaign_coefficients"]["name"])
            name = a.path.removeprefix("campaign.coefficient.")
            if name not in names:
                self.error(pa, f"unknown campaign coefficient '{name}'", ("path",),
                           did_you_mean(name, sorted(names)) or "see `drawdown data show campaign_coefficients`")
            elif isinstance(a.value, bool) or not isinstance(a.value, (int, float)) or a.value < 0:
                self.error(pa, f"'{a.path}' takes a number >= 0, got {a.value!r}", ("value",))
            return
        table = self.data.parameters.set_index("path")
        if a.path not in table.index:
            self.error(pa, f"unknown parameter '{a.path}'", ("path",),
                       did_you_mean(a.path, table.index) or "see `drawdown data show parameters`")
            return
        spec = table.loc[a.path]
        kind = spec["type"]
        value = a.value
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
        }[kind]
        if not ok:
            self.error(pa, f"'{a.path}' takes a {kind}, got {value!r}", ("value",))
            return
        if kind in ("int", "float"):
            lo, hi = spec["min"], spec["max"]
            if not pd.isna(lo) and value < lo or not pd.isna(hi) and value > hi:
                self.error(pa, f"{value} is outside the allowed range {lo:g} to {hi:g} ({spec['unit']})", ("value",))

    def check_contradictions(self, reduces: list[ParsedAction], withdraws: list[ParsedAction],
                             shifts: list[ParsedAction]) -> None:
        start = self.header.start
        for i, first in enumerate(reduces):
            for second in reduces[i + 1:]:
                a, b = first.action, second.action
                if a.who != b.who or a.in_ != b.in_:
                    continue
                wa, wb = a.window(start), b.window(start)
                if wa and wb and wa[0] <= wb[1] and wb[0] <= wa[1] and a.to != b.to:
                    self.error(second, f"contradicts the reduce at line {first.location.line}: both set {a.who} "
                               f"troops in {a.in_} over overlapping dates ({a.to:,} vs {b.to:,})", ("to",),
                               "merge them into one reduce or make their dates follow one another")
        for reduce in reduces:
            r: Reduce = reduce.action  # type: ignore[assignment]
            r_start, r_by = r.window(start)  # type: ignore[misc]
            for withdraw in withdraws:
                w: Withdraw = withdraw.action  # type: ignore[assignment]
                if w.who != r.who or w.from_.units or w.from_.unit_types or w.from_.sites:
                    continue
                w_start, w_by = w.window(start)  # type: ignore[misc]
                probe = Holding("", r.who, "", "", "", r.in_, None, 1, 0.0, "none", "in_place", "")
                if self.matches(probe, w.from_) and w_start <= r_by and r_start <= w_by:
                    self.error(reduce, f"contradicts the withdraw at line {withdraw.location.line}: it keeps "
                               f"{r.to:,} {r.who} troops in {r.in_} while that withdraw takes all of them out over "
                               "overlapping dates", ("in",), "drop one of them, or make their dates follow one another")
        for shift in shifts:
            s: Shift = shift.action  # type: ignore[assignment]
            for withdraw in withdraws:
                w: Withdraw = withdraw.action  # type: ignore[assignment]
                if w.who != s.who or w.from_.units or w.from_.unit_types:
                    continue
                w_start = w.start or start
                if s.by < w_start:
                    continue  # the shift is over before the withdrawal begins: it moves troops that then leave
                for country, site in self.destinations(s.to):
                    probe = Holding("", s.who, "", "", "", country, site, 1, 0.0, "none", "moved", "")
                    if self.matches(probe, w.from_) and not self.kept(probe):
                        self.error(shift, f"sends {s.who} troops to {site or country} while the withdraw at line "
                                   f"{withdraw.location.line} takes {s.who} out of it from {w_start}", ("to",),
                                   "end the shift before the withdrawal starts, or keep the destination")
                        break

    def run(self) -> PostureTimeline:
        self.static_checks()
        if self.problems:
            raise ScenarioError(sorted(self.problems, key=_position))
        return self.simulate()

    # ---- simulation --------------------------------------------------------------------------
    def new_holding(self, row: pd.Series) -> Holding:
        type_power = float(row["type_power"]) if not pd.isna(row["type_power"]) else 0.0
        type_personnel = float(row["type_personnel"]) if not pd.isna(row["type_personnel"]) else 1.0
        units = row.get("units")
        if units is not None and not pd.isna(units):
            power_per_person = type_power * float(units) / max(int(row["personnel"]), 1)
        else:
            power_per_person = type_power / type_personnel
        return Holding(
            element_id=str(row["id"]), owner=str(row["owner"]), name=str(row["name"]),
            unit_type=str(row["unit_type"]), category=str(row["category"]), country=str(row["country"]),
            site=None if pd.isna(row["site"]) or not row["site"] else str(row["site"]),
            personnel=int(row["personnel"]), power_per_person=power_per_person,
            power_unit=str(row["power_unit"]), status="in_place", mission=str(row["mission"]),
        )

    def type_holding(self, element_id: str, owner: str, name: str, unit_type: str, country: str,
                     site: str | None, status: str, mission: str, line: int | None) -> Holding:
        types = self.data.unit_types.set_index("id")
        spec = types.loc[unit_type]
        return Holding(element_id, owner, name, unit_type, str(spec["category"]), country, site, 0,
                       float(spec["power"]) / float(spec["personnel"]), str(spec["power_unit"]), status, mission,
                       line)

    def simulate(self) -> PostureTimeline:
        data, header = self.data, self.header
        dates = self.dates
        holdings: list[Holding] = []
        in_force: set[str] = set()
        records: list[tuple] = []
        withdrawals: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        ledger: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        ledger_rows: list[dict[str, Any]] = []
        alerts: list[dict[str, Any]] = []
        commitments: list[dict[str, Any]] = []
        parameters = {r["path"]: _typed(r["default"], r["type"]) for _, r in data.parameters.iterrows()}
        for pa in self.scenario.actions:
            if isinstance(pa.action, Set):
                parameters[pa.action.path] = pa.action.value

        progress: dict[int, float] = defaultdict(float)  # action index → share done at the previous phase
        baseline: dict[int, Any] = {}

        def add_event(k: int, pa: ParsedAction | None, text: str, personnel: int) -> None:
            events.append({
                "phase": k, "date": dates[k], "action_index": pa.index if pa else None,
                "kind": pa.kind if pa else "data", "line": pa.location.line if pa else None,
                "description": text, "personnel": personnel,
            })

        def remove(k: int, h: Holding, amount: int, reason: str, pa: ParsedAction | None) -> None:
            amount = min(amount, h.personnel)
            if amount <= 0:
                return
            h.personnel -= amount
            key = "withdrawn" if reason == "withdrawn" else "scheduled_out"
            ledger[h.owner][key] += amount
            withdrawals.append({
                "phase": k, "date": dates[k], "element_id": h.element_id, "owner": h.owner,
                "unit_type": h.unit_type, "category": h.category, "country": h.country, "site": h.site,
                "personnel": amount, "power": amount * h.power_per_person, "power_unit": h.power_unit,
                "reason": reason, "action_line": pa.location.line if pa else None,
            })

        def remove_share(k: int, pool: list[Holding], total: int, pa: ParsedAction) -> int:
            parts = allocate(total, [h.personnel for h in pool])
            for h, part in zip(pool, parts):
                remove(k, h, part, "withdrawn", pa)
            return sum(parts)

        def advance(pa: ParsedAction, total: int, date: dt.date) -> tuple[int, int]:
            """Cumulative whole amounts of ``total`` an action had reached at the previous phase and reaches now."""
            s, b = pa.action.window(header.start)  # type: ignore[misc]
            share = ramp(date, s, b)
            before, progress[pa.index] = progress[pa.index], share
            return round(total * before), round(total * share)

        def movable(who: str, selector: Selector) -> list[Holding]:
            """The owner's holdings that match and are not kept, whatever brought them there (data, a shift,
            a deployment, a backfill)."""
            return [h for h in holdings if h.owner == who and h.personnel > 0
                    and self.matches(h, selector) and not self.kept(h)]

        for k, date in enumerate(dates):
            # 1. scheduled changes from the data
            present = data.forces_on(date)
            for _, row in present.iterrows():
                if row["id"] in in_force:
                    continue
                in_force.add(row["id"])
                previous = row.get("replaces")
                if previous is not None and not pd.isna(previous) and previous in in_force:
                    self.continue_element(k, row, previous, holdings, ledger, remove, add_event)
                    in_force.discard(previous)
                    continue
                h = self.new_holding(row)
                holdings.append(h)
                ledger[h.owner]["initial" if k == 0 else "scheduled_in"] += h.personnel
                if k:
                    add_event(k, None, f"{h.name} ({h.element_id}) arrives per data", h.personnel)
            gone = in_force - set(present["id"])
            for element_id in sorted(gone):
                in_force.discard(element_id)
                leaving = [h for h in holdings if h.element_id == element_id and h.personnel > 0]
                total = sum(h.personnel for h in leaving)
                for h in leaving:
                    remove(k, h, h.personnel, "scheduled", None)
                if total:
                    add_event(k, None, f"{element_id} leaves per data (valid_to)", total)

            # 2. actions in file order; backfill last, so it replaces what every other action withdrew this phase
            ordered = sorted(self.scenario.actions, key=lambda item: isinstance(item.action, Backfill))
            for pa in ordered:
                a = pa.action
                if isinstance(a, Withdraw):
                    s, b = a.window(header.start)  # type: ignore[misc]
                    if date < s:
                        continue
                    share, before = ramp(date, s, b, a.profile), progress[pa.index]
                    pool = movable(a.who, a.from_)
                    if pa.index not in baseline:
                        baseline[pa.index] = sum(h.personnel for h in pool)
                        if baseline[pa.index] == 0:
                            self.error(pa, f"nothing to withdraw: no {a.who} forces (not kept) match "
                                       f"{a.from_.describe()} on {date}", ("from",),
                                       "check the selector, or whether a keep covers all of it")
                    if before >= 1.0:
                        q = 1.0  # the end state holds: anything that arrives later leaves too
                    elif share <= before:
                        continue
                    else:
                        q = (share - before) / (1.0 - before)
                    total = sum(h.personnel for h in pool)
                    removed = remove_share(k, pool, total if q >= 1.0 else round(total * q), pa)
                    progress[pa.index] = share
                    if removed:
                        add_event(k, pa, f"withdraw {a.who} from {a.from_.describe()}", removed)
                elif isinstance(a, Reduce):
                    s, b = a.window(header.start)  # type: ignore[misc]
                    if date < s:
                        continue
                    share = ramp(date, s, b)
                    # forces the data already schedules to leave before `by` leave by themselves: the ceiling
                    # applies to the rest, so they are neither counted nor taken
                    in_country = [h for h in holdings if h.owner == a.who and h.country == a.in_ and h.personnel > 0
                                  and not self.leaves_before(h, b)]
                    current = sum(h.personnel for h in in_country)
                    if pa.index not in baseline:
                        baseline[pa.index] = current
                        kept = sum(h.personnel for h in in_country if self.kept(h))
                        if current < a.to:
                            self.error(pa, f"{a.who} has {current:,} troops in {a.in_} on {date}; reducing to "
                                       f"{a.to:,} would add troops", ("to",), "use deploy to add forces")
                        if kept > a.to:
                            self.error(pa, f"contradicts keep: {kept:,} {a.who} troops in {a.in_} are kept, more "
                                       f"than the ceiling of {a.to:,}", ("to",))
                    target = round(baseline[pa.index] + (a.to - baseline[pa.index]) * share)
                    excess = current - target
                    if excess > 0:
                        pool = [h for h in in_country if not self.kept(h)]
                        removed = remove_share(k, pool, min(excess, sum(h.personnel for h in pool)), pa)
                        if removed:
                            add_event(k, pa, f"reduce {a.who} in {a.in_} towards {a.to:,}", removed)
                elif isinstance(a, Shift):
                    before_done, done = advance(pa, a.troops, date)
                    step_amount = done - before_done
                    if step_amount <= 0:
                        continue
                    places = self.destinations(a.to)
                    # troops already where they are sent do not move: a named site, or anywhere in a named country
                    to_sites = set(a.to.sites or [])
                    to_countries = {c for c, _ in places} - {self.data.site_country(x) for x in to_sites}
                    pool = [h for h in movable(a.who, a.from_)
                            if h.country not in to_countries and (h.site is None or h.site not in to_sites)]
                    available = sum(h.personnel for h in pool)
                    if available < step_amount:
                        self.error(pa, f"shift needs {step_amount:,} {a.who} troops from {a.from_.describe()} on "
                                   f"{date} but only {available:,} are there (not kept)", ("troops",))
                        continue
                    for (country, site), amount in zip(places, _increments(before_done, done, len(places))):
                        for h, part in zip(pool, allocate(amount, [h.personnel for h in pool])):
                            if part <= 0:
                                continue
                            h.personnel -= part
                            self.find_or_add(holdings, h, country, site, pa).personnel += part
                    add_event(k, pa, f"shift {a.who} from {a.from_.describe()} to {a.to.describe()}", step_amount)
                elif isinstance(a, Deploy):
                    before_done, done = advance(pa, a.troops, date)
                    step_amount = done - before_done
                    if step_amount <= 0:
                        continue
                    nations = self.resolve_nations(a.who)
                    places = self.destinations(a.to)
                    slots = [(n, p) for n in nations for p in places]
                    for (nation, (country, site)), piece in zip(slots, _increments(before_done, done, len(slots))):
                        element_id = f"deploy{pa.index}:{nation}:{site or country}"
                        h = next((x for x in holdings if x.element_id == element_id), None)
                        if h is None:
                            name = f"{nation} {a.unit_type} ({a.role or 'deploy'})"
                            h = self.type_holding(element_id, nation, name, a.unit_type, country, site, "deployed",
                                                  a.role or "deploy", pa.location.line)
                            holdings.append(h)
                        h.personnel += piece
                        ledger[nation]["deployed"] += piece
                    add_event(k, pa, f"deploy {','.join(nations)} to {a.to.describe()}", step_amount)
                elif isinstance(a, Backfill):
                    self.backfill(k, pa, holdings, withdrawals, ledger, add_event)
                elif isinstance(a, Alert):
                    until = a.until or header.horizon
                    if (a.start or header.start) <= date <= until:
                        alerts.append({"phase": k, "date": date, "owner": a.who, "troops": a.troops,
                                       "notice_days": a.notice_days, "origin": a.origin,
                                       "to": ",".join(c for c, _ in self.destinations(a.to)),
                                       "unit_type": a.unit_type, "action_line": pa.location.line})
                elif isinstance(a, Backstop):
                    until = a.until or header.horizon
                    if (a.start or header.start) <= date <= until:
                        commitments.append({"phase": k, "date": date, "owner": a.who, "for": a.for_,
                                            "capability": a.capability, "action_line": pa.location.line})
            self.check_limits(date, holdings)
            if self.problems:
                raise ScenarioError(sorted(self.problems, key=_position))

            # 3. record
            for h in holdings:
                if h.personnel > 0:
                    records.append((k, date, h.element_id, h.owner, h.name, h.unit_type, h.category, h.country,
                                    h.site, h.personnel, h.personnel * h.power_per_person, h.power_unit, h.status,
                                    h.mission, h.action_line))
            present_by_owner: dict[str, int] = defaultdict(int)
            moved_by_owner: dict[str, int] = defaultdict(int)
            for h in holdings:
                present_by_owner[h.owner] += h.personnel
                if h.status == "moved":
                    moved_by_owner[h.owner] += h.personnel
            for owner in sorted(set(ledger) | set(present_by_owner)):
                row = {"phase": k, "date": date, "owner": owner}
                for key in ("initial", "scheduled_in", "deployed", "backfilled", "withdrawn", "scheduled_out"):
                    row[key] = ledger[owner][key]
                row["present"] = present_by_owner[owner]
                row["moved"] = moved_by_owner[owner]
                ledger_rows.append(row)

        for keep, selector in self.keeps:
            if not any(h.owner == keep.action.who and self.matches(h, selector) for h in holdings):
                self.warn(keep, f"keeps nothing: no {keep.action.who} forces match {selector.describe()}")

        return PostureTimeline(
            name=header.name, start=header.start, horizon=header.horizon, step=header.step, dates=dates,
            holdings=pd.DataFrame.from_records(records, columns=HOLDING_COLUMNS),
            withdrawals=pd.DataFrame(withdrawals, columns=WITHDRAWAL_COLUMNS),
            ledger=pd.DataFrame(ledger_rows),
            events=pd.DataFrame(events, columns=["phase", "date", "action_index", "kind", "line", "description",
                                                 "personnel"]),
            alerts=pd.DataFrame(alerts, columns=["phase", "date", "owner", "troops", "notice_days", "origin", "to",
                                                 "unit_type", "action_line"]),
            commitments=pd.DataFrame(commitments, columns=["phase", "date", "owner", "for", "capability",
                                                           "action_line"]),
            parameters=parameters,
            warnings=self.warnings,
        )

    def check_limits(self, date: dt.date, holdings: list[Holding]) -> None:
        """Every `forbid` holds on this phase date; a breach names the action that caused it."""
        lines = {pa.location.line: pa for pa in self.scenario.actions}
        for pa in self.scenario.actions:
            a = pa.action
            if not isinstance(a, Forbid) or not (a.start or self.header.start) <= date <= (a.until or self.header.horizon):
                continue
            for h in holdings:
                if h.personnel > 0 and h.owner == a.who and h.category in a.categories and self.matches(h, a.in_):
                    cause = lines.get(h.action_line) if h.action_line else None
                    blame = f"the {cause.kind} at line {cause.location.line}" if cause else "the data"
                    self.error(pa, f"breached on {date}: {blame} puts {h.personnel:,} {h.owner} {h.category} troops "
                               f"({h.unit_type}) in {h.site or h.country}", ("in",))
                    return

    def continue_element(self, k: int, row: pd.Series, previous: str, holdings: list[Holding],
                         ledger: dict[str, dict[str, int]], remove: Any, add_event: Any) -> None:
        """A later stage of an element (``replaces``): its people carry over wherever they are now; only the
        difference in strength arrives (or leaves) per the data."""
        carried = [h for h in holdings if h.element_id == previous]
        fresh = self.new_holding(row)
        for h in carried:
            h.element_id, h.name = fresh.element_id, fresh.name
            h.power_per_person = fresh.power_per_person
        delta = int(row["personnel"]) - int(self.elements.at[previous, "personnel"])
        if delta > 0:
            home = next((h for h in carried if h.status == "in_place" and h.site == fresh.site), None)
            if home is None:
                fresh.personnel = 0
                holdings.append(fresh)
                home = fresh
            home.personnel += delta
            ledger[fresh.owner]["scheduled_in"] += delta
            add_event(k, None, f"{fresh.name} ({fresh.element_id}) grows by {delta:,} per data", delta)
        elif delta < 0:
            living = [h for h in carried if h.personnel > 0]
            for h, part in zip(living, allocate(-delta, [h.personnel for h in living])):
                remove(k, h, part, "scheduled", None)
            add_event(k, None, f"{fresh.name} ({fresh.element_id}) shrinks by {-delta:,} per data", -delta)

    def final_element(self, element_id: str) -> str:
        """Follow ``replaces`` links forward to the last stage of an element."""
        successors = self.successors
        seen = {element_id}
        while element_id in successors and successors[element_id] not in seen:
            element_id = successors[element_id]
            seen.add(element_id)
        return element_id

    @cached_property
    def successors(self) -> dict[str, str]:
        """Element id → the id of the later stage that ``replaces`` it."""
        frame = self.elements.dropna(subset=["replaces"])
        return {str(r["replaces"]): str(r["id"]) for _, r in frame.iterrows() if r["replaces"]}

    def leaves_before(self, holding: Holding, date: dt.date) -> bool:
        """Whether the data schedules this holding's element (its last stage) to leave before ``date``."""
        if holding.element_id not in self.element_ids:
            return False
        valid_to = self.elements.at[self.final_element(holding.element_id), "valid_to"]
        return valid_to is not None and not pd.isna(valid_to) and valid_to < date

    def find_or_add(self, holdings: list[Holding], source: Holding, country: str, site: str | None,
                    pa: ParsedAction) -> Holding:
        element_id = source.element_id
        for h in holdings:
            if h.element_id == element_id and h.country == country and h.site == site and h.status == "moved":
                return h
        moved = Holding(element_id, source.owner, source.name, source.unit_type, source.category, country, site, 0,
                        source.power_per_person, source.power_unit, "moved", source.mission, pa.location.line)
        holdings.append(moved)
        return moved

    def backfill(self, k: int, pa: ParsedAction, holdings: list[Holding], withdrawals: list[dict[str, Any]],
                 ledger: dict[str, dict[str, int]], add_event: Any) -> None:
        a: Backfill = pa.action  # type: ignore[assignment]
        s, b = a.window(self.header.start)  # type: ignore[misc]
        share = ramp(self.dates[k], s, b) * a.fraction
        if share <= 0:
            return
        gone: dict[tuple[str, str | None, str], int] = defaultdict(int)
        for w in withdrawals:
            if w["owner"] == a.of and w["reason"] == "withdrawn":
                gone[(w["country"], w["site"], w["unit_type"])] += w["personnel"]
        if not gone:
            return
        total_gone = sum(gone.values())
        cap = total_gone if a.replace == "withdrawn" else min(int(a.replace), total_gone)
        nations = [n for n in self.resolve_nations(a.who) if n != a.of]
        spending = self.data.nations.set_index("iso3")
        weights = []
        for n in nations:
            armed = bool(spending.at[n, "armed_forces"])
            milex = spending.at[n, "milex_usd_m"]
            weights.append(0.0 if not armed or pd.isna(milex) else float(milex))
        if not nations or sum(weights) == 0:
            self.error(pa, "no contributing nation with armed forces and a spending figure", ("who",))
            return
        # the cumulative total to hold now never falls (cap and ramp never fall), so what has been added is
        # never more than it; this phase's need is spread over the places where the gap is
        prefix = f"backfill{pa.index}:"
        mine = [h for h in holdings if h.element_id.startswith(prefix)]
        have: dict[tuple[str, str | None, str], int] = defaultdict(int)
        for h in mine:
            have[(h.country, h.site, h.unit_type)] += h.personnel
        need = round(cap * share) - sum(have.values())
        if need <= 0:
            return
        keys = sorted(gone, key=lambda key: (key[0], key[1] or "", key[2]))
        deficits = [max(0.0, gone[key] * cap / total_gone - have[key]) for key in keys]
        added_total = 0
        for (country, site, unit_type), amount in zip(keys, allocate(need, deficits)):
            if amount <= 0:
                continue
            for nation, part in zip(nations, allocate(amount, weights)):
                if part <= 0:
                    continue
                element_id = f"{prefix}{nation}:{site or country}:{unit_type}"
                h = next((x for x in mine if x.element_id == element_id), None)
                if h is None:
                    h = self.type_holding(element_id, nation, f"{nation} backfill for {a.of} {unit_type}", unit_type,
                                          country, site, "backfill", "backfill", pa.location.line)
                    holdings.append(h)
                    mine.append(h)
                h.personnel += part
                ledger[nation]["backfilled"] += part
                added_total += part
        if added_total:
            add_event(k, pa, f"backfill {a.of} withdrawals by {len(nations)} nations", added_total)


def _position(problem: Problem) -> tuple[int, int]:
    location = problem.location
    return (location.line or 0, location.column or 0) if location else (0, 0)


def _increments(before: int, after: int, slots: int) -> list[int]:
    """What each of ``slots`` equal shares gains when a total grows from ``before`` to ``after``: the cumulative
    split is always the same largest-remainder split, so rounding never drifts between phases."""
    return [b - a for a, b in zip(allocate(before, [1.0] * slots), allocate(after, [1.0] * slots))]


def _typed(text: str, kind: str) -> Any:
    if kind == "int":
        return int(float(text))
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text.strip().lower() in ("true", "1", "yes")
    return text


def compile_timeline(scenario: ParsedScenario, data: Dataset) -> PostureTimeline:
    """Check a parsed scenario against the data and compute its posture timeline (raises ScenarioError)."""
    return _Compiler(scenario, data).run()
