"""Discrete-event simulation of moves over the lift network (SimPy).

Every move is split into parts: its people (by air across the Atlantic, by road in Europe) and its cargo (by
sea, air or rail, or drawn from prepositioned stocks). Each part travels origin -> port of embarkation -> port of
debarkation -> destination; loads (aircraft sorties, ship voyages, trains) queue for scarce resources:

* a fleet of aircraft or ships (``simpy.PriorityResource``; an aircraft is held for its whole cycle: on-load,
  flight, off-load, return flight, and the rest its daily utilisation rate imposes; a ship for load, voyage,
  unload and return; ships are not available before their activation time),
* an airfield's working MOG and a port's berths (held while on- or off-loading),
* a rail corridor's departure slots (one train every ``24 / trains_per_day`` hours).

A move is ready when its last load has reached the destination and reception (RSOI) is over. The engine reports
per move: departure, arrival, ready, closure, the bottleneck; per resource: utilisation. It is pure: no files,
no printing. Equations and sources: ``docs/models/movement.md``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import simpy

from drawdown.movement.model import Asset, Link, Move, Network, Node, Reception, great_circle_km

HOURS_PER_DAY = 24.0
#: Nations on the far side of the Atlantic: moves between them and Europe cross it by air or sea.
NORTH_AMERICA = frozenset({"USA", "CAN"})
#: Island nations: moves to or from them within Europe cannot go by land.
ISLANDS = frozenset({"GBR", "ISL", "IRL", "CYP", "MLT"})


class NoRoute(ValueError):
    """A move has no feasible route (no port, no sea link, no aircraft able to carry its cargo)."""

    def __init__(self, move: Move, reason: str) -> None:
        super().__init__(f"{move.label}: {reason}")
        self.move = move
        self.reason = reason


@dataclass(frozen=True)
class Leg:
    mode: str  # air | sea | rail | road
    a: str
    b: str
    distance_km: float
    asset: str | None = None  # fleet used (air, sea)
    link: Link | None = None


@dataclass(frozen=True)
class Part:
    """People or cargo of one move with its route: land to the port of embarkation, the main leg, land on."""

    kind: str  # people | cargo
    amount: float  # persons or short tons
    loads: tuple[float, ...]  # amount per load (sortie, voyage, train, convoy)
    legs: tuple[Leg, ...]
    draw_hours: float = 0.0  # prepositioned stocks: drawing the set at the port of debarkation


@dataclass(frozen=True)
class Plan:
    move: Move
    parts: tuple[Part, ...]

    @property
    def route(self) -> str:
        """Each part's path, e.g. ``people: a > b > c; cargo: a > port > port > c``."""
        out = []
        for part in self.parts:
            if not part.legs:
                continue
            path = [part.legs[0].a] + [leg.b for leg in part.legs]
            path = [n for i, n in enumerate(path) if i == 0 or n != path[i - 1]]
            out.append(f"{part.kind}: {' > '.join(path)}")
        return "; ".join(out)

    @property
    def modes(self) -> list[str]:
        return sorted({leg.mode for part in self.parts for leg in part.legs if leg.distance_km > 0})


@dataclass
class MoveOutcome:
    move: Move
    plan: Plan
    departure: float | None = None  # hours: first load leaves its origin
    arrival: float | None = None  # hours: last load at the destination
    ready: float | None = None
    delivered: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    waits: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # hours summed over loads
    loads: int = 0
    critical: dict[str, float] = field(default_factory=dict)  # time breakdown of the last load to arrive
    reception_hours: float = 0.0

    @property
    def closure_hours(self) -> float | None:
        return None if self.ready is None else self.ready - self.move.release_hours

    @property
    def stuck(self) -> dict[str, float]:
        want = {p.kind: p.amount for p in self.plan.parts}
        return {k: v - self.delivered.get(k, 0.0) for k, v in want.items() if v - self.delivered.get(k, 0.0) > 1e-6}

    def bottleneck(self) -> str:
        """What the last load to arrive spent most time on: a queue, moving, handling, drawing stocks or
        reception."""
        if not self.critical and self.reception_hours <= 0:
            return "none"
        items = dict(self.critical)
        if self.reception_hours > 0:
            items["reception"] = self.reception_hours
        name, _ = max(items.items(), key=lambda kv: kv[1])
        return name


@dataclass
class ResourceUse:
    name: str
    capacity: int
    intervals: list[tuple[float, float]] = field(default_factory=list)

    def utilisation(self, span: float) -> float:
        busy = sum(b - a for a, b in self.intervals)
        return busy / (self.capacity * span) if span > 0 and self.capacity > 0 else 0.0

    def peak(self) -> int:
        """Most holders at once (checked against capacity by the tests)."""
        events = sorted([(a, 1) for a, _ in self.intervals] + [(b, -1) for _, b in self.intervals],
                        key=lambda e: (e[0], e[1]))
        now = best = 0
        for _, step in events:
            now += step
            best = max(best, now)
        return best


@dataclass
class Result:
    outcomes: list[MoveOutcome]
    resources: dict[str, ResourceUse]
    span_hours: float

    def utilisation(self) -> dict[str, float]:
        return {k: r.utilisation(self.span_hours) for k, r in sorted(self.resources.items()) if r.intervals}


def _split(amount: float, per_load: float) -> tuple[float, ...]:
    if amount <= 0:
        return ()
    n = max(1, math.ceil(amount / per_load - 1e-9))
    return tuple([per_load] * (n - 1) + [amount - per_load * (n - 1)])


class Planner:
    """Chooses ports, modes and fleets for each move (deterministic, before the simulation)."""

    def __init__(self, network: Network, assets: dict[str, Asset], reception: Reception,
                 prepositioned: dict[str, tuple[str, ...]] | None = None, people_road_max_km: float = 500.0) -> None:
        self.network = network
        self.assets = assets
        self.reception = reception
        self.prepositioned = prepositioned or {}  # unit type -> APS site ids, one entry per set
        self.sets_left = {k: list(v) for k, v in self.prepositioned.items()}  # each set is drawn once
        self.people_road_max_km = people_road_max_km
        self._airfields: dict[str, Node | None] = {}

    def _fleets(self, mode: str, move: Move, *, outsize: bool = False, people: bool = False) -> list[tuple[Asset, float]]:
        """(asset, aircraft or ships this move can use) for fleets able to carry the part: the action's dedicated
        lift if it has any that fits, else the shared pools."""
        able = [a for a in self.assets.values() if a.mode == mode
                and (a.passengers > 0 if people else a.payload_stons > 0) and (a.outsize or not outsize)]
        dedicated = [(a, move.lift[a.id]) for a in able if move.lift.get(a.id, 0) > 0]
        if dedicated:
            return dedicated
        return [(a, float(a.available)) for a in able if a.available > 0]

    def _nearest(self, node: Node, kind: str, country: str | None = None, exclude_us: bool = False) -> Node | None:
        pool = [n for n in self.network.nodes.values() if getattr(n, kind)
                and (country is None or n.country == country) and not (exclude_us and n.country in NORTH_AMERICA)]
        if getattr(node, kind) and (country is None or node.country == country):
            return node
        if not pool:
            return None
        return min(pool, key=lambda n: (great_circle_km(node, n), n.id))

    def _airfield(self, node: Node) -> Node | None:
        """The node itself if it is an airfield, else the nearest in its country, else the nearest on its side
        of the Atlantic."""
        if node.id not in self._airfields:
            found = self._nearest(node, "air", node.country)
            if found is None and node.country not in NORTH_AMERICA:
                found = self._nearest(node, "air", exclude_us=True)
            self._airfields[node.id] = found
        return self._airfields[node.id]

    def _land(self, a: str, b: str, mode: str = "rail") -> Leg:
        link = self.network.land(a, b, mode)  # type: ignore[arg-type]
        return Leg(mode, a, b, link.distance_km, link=link)

    def plan(self, move: Move) -> Plan:
        nodes = self.network.nodes
        for end in (move.origin, move.destination):
            if end not in nodes:
                raise NoRoute(move, f"'{end}' is not a node of the lift network")
        origin, destination = nodes[move.origin], nodes[move.destination]
        transatlantic = (origin.country in NORTH_AMERICA) != (destination.country in NORTH_AMERICA)
        mode = move.mode
        parts: list[Part] = []
        if not transatlantic:
            if mode in ("auto", "rail", "road"):
                land_mode = "road" if mode == "road" else "rail"
                island = bool({origin.country, destination.country} & ISLANDS) and origin.country != destination.country
                far = great_circle_km(origin, destination) > self.people_road_max_km
                if mode == "auto" and (far or island):
                    parts.append(self._by_air(move, origin, destination, "people", move.personnel))
                else:
                    parts.append(self._people_by_road(move, origin, destination))
                if move.stons > 0:
                    if mode == "auto" and island:  # no sea links inside Europe yet: island cargo flies
                        parts.append(self._by_air(move, origin, destination, "cargo", move.stons))
                    else:
                        parts.append(self._cargo_by_land(move, origin, destination, land_mode))
                return Plan(move, tuple(parts))
            if mode == "sea":
                raise NoRoute(move, "mode 'sea' is only for moves across the Atlantic")
            parts.append(self._by_air(move, origin, destination, "people", move.personnel))
            if move.stons > 0:
                parts.append(self._by_air(move, origin, destination, "cargo", move.stons))
            return Plan(move, tuple(parts))
        if mode in ("rail", "road"):
            raise NoRoute(move, f"mode '{mode}' cannot cross the Atlantic")
        aps = self.sets_left.get(move.unit_type, []) if move.inbound and move.prepositioned and move.stons > 0 else []
        if aps:  # people fly to the set, draw it, and move on with it
            stocks = self._from_stocks(move, destination, aps)
            site = self.network.nodes[stocks.legs[0].a]
            parts.append(self._by_air(move, origin, site, "people", move.personnel))
            parts.append(stocks)
            return Plan(move, tuple(parts))
        parts.append(self._by_air(move, origin, destination, "people", move.personnel))
        if move.stons > 0:
            if mode == "air" or (mode == "auto" and move.lift_class == "light"):
                parts.append(self._by_air(move, origin, destination, "cargo", move.stons))
            else:
                parts.append(self._by_sea(move, origin, destination))
        return Plan(move, tuple(parts))

    def _people_by_road(self, move: Move, origin: Node, destination: Node) -> Part:
        return Part("people", move.personnel, (float(move.personnel),) if move.personnel else (),
                    (self._land(origin.id, destination.id, "road"),))

    def _cargo_by_land(self, move: Move, origin: Node, destination: Node, land_mode: str) -> Part:
        if land_mode == "road":
            return Part("cargo", move.stons, (move.stons,), (self._land(origin.id, destination.id, "road"),))
        rail = self.assets.get("rail_military")
        if rail is None or rail.payload_stons <= 0:
            raise NoRoute(move, "no rail asset (rail_military) with a train payload in the lift data")
        return Part("cargo", move.stons, _split(move.stons, rail.payload_stons),
                    (self._land(origin.id, destination.id, "rail"),))

    def _by_air(self, move: Move, origin: Node, destination: Node, kind: str, amount: float) -> Part:
        if amount <= 0:
            return Part(kind, 0.0, (), ())
        outsize = kind == "cargo" and move.outsize_loads > 0
        fleets = self._fleets("air", move, outsize=outsize, people=kind == "people")
        if kind == "people":
            fleets = [f for f in fleets if not f[0].outsize] or fleets  # people fly charter where there is charter
        if not fleets:
            raise NoRoute(move, f"no aircraft available that can carry its {kind}"
                          + (" (outsize cargo)" if outsize else ""))
        fleet = max(fleets, key=lambda f: (f[1] * (f[0].passengers if kind == "people" else f[0].payload_stons),
                                           f[0].id))[0]
        apoe, apod = self._airfield(origin), self._airfield(destination)
        if apoe is None or apod is None:
            raise NoRoute(move, "no airfield near its origin or destination")
        per_load = fleet.passengers if kind == "people" else fleet.payload_stons
        loads = _split(amount, per_load)
        if outsize:
            n = max(len(loads), math.ceil(move.outsize_loads - 1e-9))
            loads = tuple([amount / n] * n)
        legs = (self._land(origin.id, apoe.id, "road"),
                Leg("air", apoe.id, apod.id, great_circle_km(apoe, apod), asset=fleet.id),
                self._land(apod.id, destination.id, "road"))
        return Part(kind, amount, loads, legs)

    def _by_sea(self, move: Move, origin: Node, destination: Node) -> Part:
        fleets = self._fleets("sea", move)
        if not fleets:
            raise NoRoute(move, "no ships available")
        fleet = max(fleets, key=lambda f: (f[1] * f[0].payload_stons, f[0].id))[0]
        best: tuple[float, Leg, Leg, Leg] | None = None
        american = origin.country in NORTH_AMERICA
        # where the data publish rail links from the origin to ports, the unit uses one of those ports
        nodes = self.network.nodes
        crossings = [(a, b, link) for (a, b, mode), link in sorted(self.network.links.items())
                     if mode == "sea" and (nodes[a].country in NORTH_AMERICA) == american
                     and (nodes[b].country in NORTH_AMERICA) != american]
        published = {b for (a, b, mode) in self.network.links if a == origin.id and mode == "rail"} \
            & {a for a, _, _ in crossings}
        for a, b, link in crossings:
            if published and a not in published:
                continue
            pre, post = self._land(origin.id, a, "rail"), self._land(b, destination.id, "rail")
            hours = link.distance_km / fleet.speed_kmh + self._rail_hours(pre, move.stons) \
                + self._rail_hours(post, move.stons)
            if best is None or hours < best[0]:
                best = (hours, pre, Leg("sea", a, b, link.distance_km, asset=fleet.id, link=link), post)
        if best is None:
            raise NoRoute(move, f"no sea link across the Atlantic from {origin.country} towards {destination.country}")
        _, pre, sea, post = best
        return Part("cargo", move.stons, _split(move.stons, fleet.payload_stons), (pre, sea, post))

    def _rail_hours(self, leg: Leg, stons: float) -> float:
        """Estimated hours for ``stons`` over a rail leg (for choosing ports): dispatch plus travel."""
        rail = self.assets.get("rail_military")
        if rail is None or leg.distance_km <= 0:
            return 0.0
        trains = math.ceil(stons / rail.payload_stons) if rail.payload_stons > 0 else 1
        tpd = (leg.link.trains_per_day if leg.link and leg.link.trains_per_day else None) or rail.trains_per_day or 1.0
        return trains * 24.0 / tpd + leg.distance_km / max(rail.speed_kmh, 1e-9) + (leg.link.delay_hours if leg.link else 0.0)

    def _from_stocks(self, move: Move, destination: Node, aps: list[str]) -> Part:
        site = min((self.network.nodes[s] for s in aps), key=lambda n: (great_circle_km(n, destination), n.id))
        aps.remove(site.id)  # the set is drawn: the next unit of this type ships its own equipment
        rail = self.assets.get("rail_military")
        per_train = rail.payload_stons if rail and rail.payload_stons > 0 else move.stons
        return Part("cargo", move.stons, _split(move.stons, per_train), (self._land(site.id, destination.id, "rail"),),
                    draw_hours=self.reception.aps_draw_hours)


class Simulation:
    """One SimPy run of a set of plans. Inputs are fixed; sampling happens outside (``simulate``)."""

    def __init__(self, plans: list[Plan], network: Network, assets: dict[str, Asset], reception: Reception,
                 rail_default_tpd: float, land_speed_kmh: dict[str, float]) -> None:
        self.env = simpy.Environment()
        self.network = network
        self.assets = assets
        self.reception = reception
        self.rail_default_tpd = rail_default_tpd
        self.land_speed = land_speed_kmh
        self.plans = plans
        self.uses: dict[str, ResourceUse] = {}
        self._resources: dict[str, simpy.PriorityResource] = {}
        self.outcomes = [MoveOutcome(p.move, p) for p in plans]

    # resources ---------------------------------------------------------------------------------------------
    def _resource(self, name: str, capacity: int) -> simpy.PriorityResource:
        if name not in self._resources:
            self._resources[name] = simpy.PriorityResource(self.env, capacity=max(1, capacity))
            self.uses[name] = ResourceUse(name, max(1, capacity))
        return self._resources[name]

    def _fleet(self, asset: Asset, move: Move) -> tuple[str, simpy.PriorityResource]:
        if asset.id in move.lift:
            name = f"{asset.id} fleet (dedicated to {move.lift_group or move.id})"
            return name, self._resource(name, int(move.lift[asset.id]))
        name = f"{asset.id} fleet"
        return name, self._resource(name, asset.available)

    def _hold(self, name: str, resource: simpy.PriorityResource, priority: int, hours: float,
              timing: dict[str, float], outcome: MoveOutcome, label: str):
        """Acquire, hold for ``hours`` (recorded as ``label``), release; waiting is recorded under ``name``."""
        t0 = self.env.now
        with resource.request(priority=priority) as request:
            yield request
            waited = self.env.now - t0
            if waited > 0:
                timing[f"{name} queue"] = timing.get(f"{name} queue", 0.0) + waited
                outcome.waits[name] += waited
            start = self.env.now
            yield self.env.timeout(hours)
            timing[label] = timing.get(label, 0.0) + hours
            self.uses[name].intervals.append((start, self.env.now))

    # legs --------------------------------------------------------------------------------------------------
    def _land_leg(self, leg: Leg, amount_trains: int, priority: int, timing: dict[str, float],
                  outcome: MoveOutcome):
        """Move over land. Rail: each train takes a departure slot on the corridor, then travels."""
        if leg.distance_km <= 0:
            return
        hours = leg.distance_km / self.land_speed[leg.mode] + (leg.link.delay_hours if leg.link else 0.0)
        if leg.mode == "rail" and amount_trains > 0:
            tpd = (leg.link.trains_per_day if leg.link and leg.link.trains_per_day else None) or self.rail_default_tpd
            a, b = sorted((leg.a, leg.b))
            name = f"rail {a}-{b}"
            slot = self._resource(name, 1)
            for _ in range(amount_trains):
                yield from self._hold(name, slot, priority, HOURS_PER_DAY / tpd, timing, outcome, "rail departures")
        yield self.env.timeout(hours)
        timing[f"{leg.mode} transit"] = timing.get(f"{leg.mode} transit", 0.0) + hours

    def _air_part(self, plan: Plan, part: Part, outcome: MoveOutcome):
        """Dispatch the part's sorties one at a time (so a fleet's queue holds at most one request per part):
        each takes an aircraft as soon as one is free and flies on its own."""
        move = plan.move
        pre, air, post = part.legs
        asset = self.assets[air.asset]  # type: ignore[index]
        priority = -move.priority
        timing: dict[str, float] = {}
        yield from self._land_leg(pre, 0, priority, timing, outcome)
        yield from self._dispatch(part, outcome, asset, move, timing,
                                  lambda amount, t, fleet, request, name: self._sortie(
                                      plan, part, amount, outcome, fleet, request, name, t))

    def _dispatch(self, part: Part, outcome: MoveOutcome, asset: Asset, move: Move, timing: dict[str, float],
                  launch: Callable[..., Any]):
        """Take a vehicle of the fleet for each load in turn (so a fleet's queue holds at most one request per
        part) and launch the load on it; the wait since the part was ready is the load's queue time."""
        name, fleet = self._fleet(asset, move)
        ready_at = self.env.now
        running = []
        for amount in part.loads:
            request = fleet.request(priority=-move.priority)
            yield request
            load_timing = dict(timing)
            if self.env.now > ready_at:
                load_timing[f"{name} queue"] = self.env.now - ready_at
                outcome.waits[name] += self.env.now - ready_at
            running.append(self.env.process(launch(amount, load_timing, fleet, request, name)))
        yield simpy.AllOf(self.env, running)

    def _port_to_port(self, leg: Leg, on_hours: float, off_hours: float, speed_kmh: float, priority: int,
                      timing: dict[str, float], outcome: MoveOutcome):
        """Load at one end, travel, unload at the other (each end held against an airfield's MOG or a port's
        berths where the data give them); returns the one-way travel time."""
        travel = leg.distance_km / speed_kmh
        for node_id, hours in ((leg.a, on_hours), (leg.b, off_hours)):
            node = self.network.nodes[node_id]
            if node_id == leg.b:
                yield self.env.timeout(travel)
                timing[f"{leg.mode} transit"] = travel
            capacity, what = (node.mog, "MOG") if leg.mode == "air" else (node.berths, "berths")
            yield from self._handle(node, capacity, what, hours, priority, timing, outcome)
        return travel

    def _sortie(self, plan: Plan, part: Part, amount: float, outcome: MoveOutcome, fleet: simpy.PriorityResource,
                request: Any, name: str, timing: dict[str, float]):
        """One aircraft, already acquired: on-load, fly, off-load (MOG where given), fly back. The aircraft is
        released after its return flight and no earlier than its daily utilisation rate allows."""
        move = plan.move
        _, air, post = part.legs
        asset = self.assets[air.asset]  # type: ignore[index]
        priority = -move.priority
        start = self.env.now
        outcome.departure = start if outcome.departure is None else min(outcome.departure, start)
        flight = yield from self._port_to_port(air, asset.ground_hours, asset.unload_hours, asset.speed_kmh,
                                               priority, timing, outcome)
        cycle = max(2 * flight + asset.ground_hours + asset.unload_hours,
                    2 * flight * HOURS_PER_DAY / asset.utilisation_hours_per_day)
        self.env.process(self._release_after(fleet, request, name, start, max(start + cycle, self.env.now + flight)))
        yield from self._land_leg(post, 0, priority, timing, outcome)
        self._arrive(outcome, part, amount, timing)

    def _handle(self, node: Node, capacity: int | None, what: str, hours: float, priority: int,
                timing: dict[str, float], outcome: MoveOutcome):
        """Load or unload at a port: held against its MOG or berths where the data give them."""
        if capacity:
            name = f"{what} {node.id}"
            yield from self._hold(name, self._resource(name, capacity), priority, hours, timing, outcome, "handling")
        else:
            yield self.env.timeout(hours)
            timing["handling"] = timing.get("handling", 0.0) + hours

    def _release_after(self, resource: simpy.PriorityResource, request: Any, name: str, start: float, end: float):
        yield self.env.timeout(max(0.0, end - self.env.now))
        resource.release(request)
        self.uses[name].intervals.append((start, self.env.now))

    def _sea_part(self, plan: Plan, part: Part, outcome: MoveOutcome):
        move = plan.move
        priority = -move.priority
        pre, sea, post = part.legs
        asset = self.assets[sea.asset]  # type: ignore[index]
        rail = self.assets.get("rail_military")
        per_train = rail.payload_stons if rail and rail.payload_stons > 0 else part.amount
        timing: dict[str, float] = {}
        outcome.departure = self.env.now if outcome.departure is None else min(outcome.departure, self.env.now)
        yield from self._land_leg(pre, math.ceil(part.amount / per_train - 1e-9), priority, timing, outcome)
        yield from self._dispatch(part, outcome, asset, move, timing,
                                  lambda amount, t, fleet, request, name: self._voyage(
                                      plan, part, amount, t, outcome, asset, per_train, fleet, request, name))

    def _voyage(self, plan: Plan, part: Part, amount: float, timing: dict[str, float], outcome: MoveOutcome,
                asset: Asset, per_train: float, fleet: simpy.PriorityResource, request: Any, name: str):
        """One ship, already acquired: activation (counted from the order), load, sail, unload, sail back."""
        move = plan.move
        priority = -move.priority
        _, sea, post = part.legs
        start = self.env.now
        active_from = move.release_hours + asset.activation_hours
        if self.env.now < active_from:
            timing["ship activation"] = active_from - self.env.now
            yield self.env.timeout(active_from - self.env.now)
        sail = yield from self._port_to_port(sea, asset.ground_hours, asset.unload_hours, asset.speed_kmh,
                                             priority, timing, outcome)
        self.env.process(self._release_after(fleet, request, name, start, self.env.now + sail))
        yield from self._land_leg(post, math.ceil(amount / per_train - 1e-9), priority, timing, outcome)
        self._arrive(outcome, part, amount, timing)

    def _land_part(self, plan: Plan, part: Part, outcome: MoveOutcome):
        move = plan.move
        timing: dict[str, float] = {}
        outcome.departure = self.env.now if outcome.departure is None else min(outcome.departure, self.env.now)
        leg = part.legs[0]
        if part.draw_hours:
            yield self.env.timeout(part.draw_hours)
            timing["drawing prepositioned stocks"] = part.draw_hours
        yield from self._land_leg(leg, len(part.loads) if leg.mode == "rail" else 0, -move.priority, timing, outcome)
        self._arrive(outcome, part, part.amount, timing, loads=len(part.loads))

    def _arrive(self, outcome: MoveOutcome, part: Part, amount: float, timing: dict[str, float], loads: int = 1) -> None:
        outcome.delivered[part.kind] += amount
        outcome.loads += loads
        if outcome.arrival is None or self.env.now >= outcome.arrival:
            outcome.arrival = self.env.now
            outcome.critical = dict(timing)

    def _move(self, outcome: MoveOutcome):
        plan, move = outcome.plan, outcome.move
        yield self.env.timeout(move.release_hours)
        # readiness: inbound forces prepare (light: to wheels-up; medium and heavy: rail loading at home)
        if move.inbound and not move.ready_on_release:
            shipping = any(p.kind == "cargo" and p.loads and not p.draw_hours for p in plan.parts)
            heavy = move.lift_class in ("medium", "heavy") and shipping
            ready_to_go = self.reception.readiness_hours_heavy if heavy else self.reception.readiness_hours_light
            if ready_to_go > 0:
                yield self.env.timeout(ready_to_go)
        processes = []
        drawing = any(p.draw_hours for p in plan.parts)
        for part in plan.parts:
            if not part.loads:
                continue
            if drawing and part.draw_hours:  # the set is drawn once its people have arrived at it
                yield simpy.AllOf(self.env, processes)
            main = next((leg for leg in part.legs if leg.mode in ("air", "sea")), None)
            if main is not None and main.mode == "air":
                processes.append(self.env.process(self._air_part(plan, part, outcome)))
            elif main is not None:
                processes.append(self.env.process(self._sea_part(plan, part, outcome)))
            else:
                processes.append(self.env.process(self._land_part(plan, part, outcome)))
        yield simpy.AllOf(self.env, processes)
        reception = 0.0
        if move.inbound:
            cargo = any(p.kind == "cargo" and p.loads for p in plan.parts)
            heavy = move.lift_class in ("medium", "heavy") and cargo
            reception = self.reception.rsoi_hours_heavy if heavy else self.reception.rsoi_hours_light
        outcome.reception_hours = reception
        yield self.env.timeout(reception)
        outcome.ready = self.env.now

    def run(self, until_hours: float) -> Result:
        for outcome in self.outcomes:
            self.env.process(self._move(outcome))
        self.env.run(until=until_hours)
        ends = [o.ready for o in self.outcomes if o.ready is not None]
        starts = [o.move.release_hours for o in self.outcomes]
        span = (max(ends) - min(starts)) if ends and starts else 0.0
        return Result(self.outcomes, self.uses, span)


def plans_for(moves: Iterable[Move], planner: Planner, on_error: Callable[[NoRoute], None] | None = None) -> list[Plan]:
    plans = []
    for move in moves:
        try:
            plans.append(planner.plan(move))
        except NoRoute as exc:
            if on_error is None:
                raise
            on_error(exc)
    return plans
