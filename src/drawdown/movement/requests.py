"""Turn a scenario's moves into the movement engine's ``Move`` list.

* ``deploy`` and ``alert``: new forces from a home station (``origin:``, or the default for the unit type's lift
  class: see ``DEFAULT_US_ORIGIN``) to each destination; an alert is released when its notice runs out.
* ``shift``: from the first place selected to each destination, within Europe.
* ``withdraw`` and ``reduce``: every element the posture timeline removes, per phase, from its site back to the
  United States; released at the start of the phase in which it leaves and due at the phase date.

What a unit needs lifted (people, short tons, outsize loads) comes from ``unit_lift`` scaled by personnel; types
without a row use short tons per person for their lift class (``lift_parameters``, asset ``requirement``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from drawdown.data import Dataset
from drawdown.errors import ScenarioError
from drawdown.movement.model import Move
from drawdown.movement.network import LiftData
from drawdown.scenario import Scenario
from drawdown.scenario.model import Alert, Deploy, Reduce, Selector, Shift, Withdraw
from drawdown.scenario.timeline import PostureTimeline, _Compiler

#: Home stations used when a US deploy or alert names no ``origin``: the 82nd Airborne's (light), a Stryker
#: brigade's (medium: two SBCTs at Lewis-McChord), an armoured brigade's (heavy: 1st Cavalry Division).
#: Air and naval units fly or sail themselves; their support moves from Dover, AMC's east-coast hub.
DEFAULT_US_ORIGIN = {"light": "fort_bragg", "medium": "jblm", "heavy": "fort_hood", "air": "dover_afb",
                     "naval": "dover_afb", "static": "dover_afb"}
#: Where withdrawn US forces go: the east-coast air and sea hub (a stand-in for 'home').
US_RETURN = {"air": "jb_charleston", "sea": "port_charleston"}
MOVING_ACTIONS = (Deploy, Alert, Shift, Withdraw, Reduce)


def requirement(data: Dataset, lift: LiftData, unit_type: str, personnel: int) -> tuple[float, float, str]:
    """(short tons, outsize C-17 loads, lift class) for ``personnel`` people of ``unit_type``."""
    types = data.unit_types.set_index("id")
    lift_class = str(types.at[unit_type, "lift_class"]) if unit_type in types.index else "light"
    lifts = data.tables["unit_lift"]
    rows = lifts[(lifts["unit_type"] == unit_type) & lifts["chosen"]]
    per_person_class = {"heavy": "heavy", "medium": "medium"}.get(lift_class, "light")
    per_person = lift.value("requirement", f"stons_per_person_{per_person_class}")
    if not len(rows):
        stons = personnel * per_person
        outsize = stons / lift.value("c17", "payload_stons") if lift_class == "heavy" else 0.0
        return stons, outsize, lift_class
    row = rows.iloc[0]
    base = row["passengers"] if pd.notna(row["passengers"]) and row["passengers"] > 0 else types.at[unit_type, "personnel"]
    f = personnel / float(base)
    c17_payload = lift.value("c17", "payload_stons")
    if pd.notna(row["short_tons"]):
        stons = float(row["short_tons"]) * f
    elif pd.notna(row["c17_loads"]):
        stons = float(row["c17_loads"]) * c17_payload * f
    else:
        stons = personnel * per_person
    outsize = 0.0
    if pd.notna(row["outsize_items"]) and row["outsize_items"] > 0:
        outsize = float(row["c17_loads"]) * f if pd.notna(row["c17_loads"]) else stons / c17_payload
    return stons, outsize, lift_class


class _Builder:
    def __init__(self, scenario: Scenario, data: Dataset, lift: LiftData, timeline: PostureTimeline) -> None:
        self.scenario = scenario
        self.data = data
        self.lift = lift
        self.timeline = timeline
        self.start = scenario.parsed.header.start
        self.compiler = _Compiler(scenario.parsed, data)
        self.moves: list[Move] = []
        # what a unit needs lifted is a property of the unit: scenario overrides of lift figures do not change it
        self.base_lift = lift.bundled
        self.lift_node_ids = frozenset(data.tables["lift_nodes"]["id"])

    def hours(self, date: dt.date) -> float:
        return (date - self.start).days * 24.0

    def node_for(self, country: str, site: str | None, pa: Any, field: str) -> str:
        """A place in ``country``: the site if given, else its primary site, else a lift node there."""
        nodes = self.lift.network.nodes
        if site and site in nodes:
            return site
        if country in ("USA",):
            return US_RETURN["air"]
        primary = self.data.primary_site(country)
        if primary and primary in nodes:
            return primary
        return self.home(country, pa, field)

    def home(self, nation: str, pa: Any, field: str) -> str:
        """Where a nation's own forces leave from or return to: a node of the lift network in that nation that is
        not a US site (an airfield first), else any place there."""
        if nation == "USA":
            return US_RETURN["air"]
        nodes = self.lift.network.nodes
        own = sorted((not n.air, n.id) for n in nodes.values() if n.country == nation and n.id in self.lift_node_ids)
        if own:
            return own[0][1]
        anywhere = sorted(n.id for n in nodes.values() if n.country == nation)
        if anywhere:
            return anywhere[0]
        raise ScenarioError.single(f"no place of the lift network in {nation}", pa.location, field=field,
                                   suggestion="name an origin with origin: NODE (see `drawdown data show lift_nodes`)")

    def origin(self, action: Any, lift_class: str, pa: Any, who: str) -> str:
        origin = getattr(action, "origin", None)
        if origin and not (isinstance(action, Alert) and origin not in self.lift.network.nodes):
            if origin not in self.lift.network.nodes:
                from drawdown.errors import did_you_mean

                raise ScenarioError.single(f"unknown lift node '{origin}'", pa.location, field="origin",
                                           suggestion=did_you_mean(origin, self.lift.network.nodes)
                                           or "see `drawdown data show lift_nodes`")
            return origin
        if who == "USA":
            return DEFAULT_US_ORIGIN.get(lift_class, "fort_bragg")
        return self.home(who, pa, "who")

    def add(self, pa: Any, label: str, owner: str, unit_type: str, personnel: int, origin: str, destination: str,
            release: dt.date, due: dt.date | None, inbound: bool,
            cargo: tuple[float, float] | None = None) -> None:
        if personnel <= 0:
            return
        stons, outsize, lift_class = requirement(self.data, self.base_lift, unit_type, personnel)
        if cargo is not None:
            stons, outsize = cargo
        action = pa.action
        self.moves.append(Move(
            id=f"a{pa.index + 1}.{len(self.moves) + 1}", label=label, owner=owner, unit_type=unit_type,
            lift_class=lift_class, personnel=personnel, stons=stons, outsize_loads=outsize, origin=origin,
            destination=destination, release_hours=self.hours(release),
            due_hours=None if due is None else self.hours(due), mode=getattr(action, "mode", "auto") or "auto",
            priority=getattr(action, "priority", 0) or 0, prepositioned=bool(getattr(action, "prepositioned", False)),
            inbound=inbound, action_line=pa.location.line, lift=self.dedicated(pa), lift_group=f"a{pa.index + 1}",
            ready_on_release=isinstance(action, Alert)))

    def dedicated(self, pa: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, count in (getattr(pa.action, "lift", None) or {}).items():
            asset = key.removesuffix("_available")
            if self.lift.modes.get(asset) not in ("air", "sea"):
                from drawdown.errors import did_you_mean

                choices = [a for a, m in self.lift.modes.items() if m in ("air", "sea")]
                raise ScenarioError.single(f"'{key}' is not an aircraft or ship fleet", pa.location, field="lift",
                                           suggestion=did_you_mean(asset, choices) or "one of " + ", ".join(choices))
            out[asset] = float(count)
        return out

    def build(self) -> list[Move]:
        for pa in self.scenario.parsed.actions:
            a = pa.action
            if isinstance(a, (Deploy, Alert)):
                self.deploy(pa, a)
            elif isinstance(a, Shift):
                self.shift(pa, a)
            elif isinstance(a, (Withdraw, Reduce)):
                self.withdraw(pa)
        return self.moves

    def deploy(self, pa: Any, a: Deploy | Alert, order: dt.date | None = None,
               countries: frozenset[str] | None = None) -> None:
        """``order``: for alerts, the day they are ordered to go (default: the first day on alert)."""
        nations = self.compiler.resolve_nations(a.who) if isinstance(a, Deploy) else [a.who]
        places = self.compiler.destinations(a.to)
        if countries is not None:
            places = [(c, s) for c, s in places if c in countries]
        unit_type = a.unit_type or "ibct"
        if isinstance(a, Alert):
            release = (order or a.start or self.start) + dt.timedelta(days=a.notice_days)
            due = None
        else:
            release, due = a.start or self.start, a.by
        shares = _split_even(a.troops, len(nations) * len(places))
        i = 0
        for nation in nations:
            _, _, lift_class = requirement(self.data, self.base_lift, unit_type, 1)
            origin = self.origin(a, lift_class, pa, nation)
            for country, site in places:
                destination = self.node_for(country, site, pa, "to")
                label = f"{a.kind} {nation} {unit_type} {shares[i]:,} to {site or country}"
                self.add(pa, label, nation, unit_type, shares[i], origin, destination, release, due, inbound=True)
                i += 1

    def shift(self, pa: Any, a: Shift) -> None:
        """From every place the selector matches, in proportion to the owner's troops there at the start, to
        each destination (split evenly)."""
        holdings = self.timeline.holdings
        here = holdings[(holdings["phase"] == 0) & (holdings["owner"] == a.who) & (holdings["personnel"] > 0)]
        sel = a.from_
        mask = pd.Series(True, index=here.index)
        if sel.countries:
            mask &= here["country"].isin(sel.countries)
        if sel.sites:
            mask &= here["site"].isin(sel.sites)
        if sel.units:
            mask &= here["element_id"].isin(sel.units)
        if sel.unit_types:
            mask &= here["unit_type"].isin(sel.unit_types)
        if sel.groups or sel.nato_joined_after is not None:
            nations = set(self.compiler.resolve_nations(Selector(groups=sel.groups,
                                                                 nato_joined_after=sel.nato_joined_after)))
            mask &= here["country"].isin(nations)
        here = here[mask].copy()
        if not len(here):
            return
        here["node"] = [self.node_for(c, s if isinstance(s, str) and s else None, pa, "from")
                        for c, s in zip(here["country"], here["site"])]
        by_origin = here.groupby("node")["personnel"].sum()
        places = self.compiler.destinations(a.to)
        from drawdown.scenario.timeline import allocate

        for origin, troops in zip(by_origin.index, allocate(a.troops, [int(v) for v in by_origin.values])):
            there = here[here["node"] == origin]
            unit_type = str(there.groupby("unit_type")["personnel"].sum().idxmax())
            for (c, s), part in zip(places, _split_even(troops, len(places))):
                label = f"shift {a.who} {part:,} {origin} to {s or c}"
                self.add(pa, label, a.who, unit_type, part, origin, self.node_for(c, s, pa, "to"),
                         a.start or self.start, a.by, inbound=True)

    def withdraw(self, pa: Any) -> None:
        """One move per phase and place: a garrison's units leave together (their cargo summed, the move
        classed by its largest unit type), to the owner's home (the United States: Charleston)."""
        out = self.timeline.withdrawals
        rows = out[(out["action_line"] == pa.location.line) & (out["reason"] == "withdrawn")].copy()
        if not len(rows):
            return
        rows["node"] = [self.node_for(c, s if isinstance(s, str) and s else None, pa, "from")
                        for c, s in zip(rows["country"], rows["site"])]
        dates = self.timeline.dates
        start = pa.action.start or self.start
        for (phase, owner, node), group in rows.groupby(["phase", "owner", "node"], sort=True):
            by_type = group.groupby("unit_type")["personnel"].sum().sort_values(ascending=False, kind="stable")
            personnel = int(by_type.sum())
            main = str(by_type.index[0])
            types = ", ".join(by_type.index[:3]) + (", ..." if len(by_type) > 3 else "")
            label = f"withdraw {owner} {personnel:,} from {node} ({types})"
            requirements = [requirement(self.data, self.base_lift, t, int(n)) for t, n in by_type.items()]
            release = max(dates[max(0, int(phase) - 1)], start)
            self.add(pa, label, owner, main, personnel, node, self.home(owner, pa, "who"), release,
                     dates[int(phase)], inbound=False,
                     cargo=(sum(r[0] for r in requirements), sum(r[1] for r in requirements)))


def _split_even(total: int, parts: int) -> list[int]:
    if parts <= 0:
        return []
    base = total // parts
    return [base + (1 if i < total - base * parts else 0) for i in range(parts)]


def moves_from_scenario(scenario: Scenario, data: Dataset, lift: LiftData,
                        timeline: PostureTimeline | None = None) -> list[Move]:
    """Every move the scenario implies, in file order."""
    timeline = timeline or scenario.timeline(data)
    return _Builder(scenario, data, lift, timeline).build()


def alert_moves(scenario: Scenario, data: Dataset, lift: LiftData, order: dt.date, countries: frozenset[str],
                timeline: PostureTimeline | None = None) -> list[Move]:
    """Moves of the alerts on notice on ``order`` (the day the warning comes), bound for ``countries``: each
    leaves when its notice runs out."""
    timeline = timeline or scenario.timeline(data)
    builder = _Builder(scenario, data, lift, timeline)
    for pa in scenario.parsed.actions:
        a = pa.action
        if isinstance(a, Alert) and (a.start or builder.start) <= order <= (a.until or scenario.parsed.header.horizon):
            builder.deploy(pa, a, order=order, countries=countries)
    return builder.moves


def overrides_from_scenario(scenario: Scenario) -> dict[str, float]:
    """Global lift overrides: ``set`` actions whose path starts with ``lift.`` (``lift.c17.available: 40``)."""
    from drawdown.scenario.model import Set

    out: dict[str, float] = {}
    for pa in scenario.parsed.actions:
        if isinstance(pa.action, Set) and pa.action.path.startswith("lift."):
            out[pa.action.path[len("lift."):]] = float(pa.action.value)  # type: ignore[arg-type]
    return out
