"""The movement engine's inputs, as plain frozen dataclasses: lift assets, the lift network, reception, and the
moves to make. Built from the bundled tables by ``drawdown.movement.network``; the engine never reads files."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["air", "sea", "rail", "road"]
MODES: tuple[str, ...] = ("auto", "air", "sea", "rail", "road")
LIFT_CLASSES = ("light", "medium", "heavy", "air", "naval", "static")
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Asset:
    """One kind of lift: a fleet of aircraft or ships, trains on a corridor, or road convoys.

    ``available`` is the number of aircraft or ships committed to the moves (fleet x mission-capable share x
    share committed); rail and road are not counted in vehicles (rail capacity is a corridor's trains per day)."""

    id: str
    name: str
    mode: Mode
    available: int = 0
    payload_stons: float = 0.0
    passengers: int = 0
    speed_kmh: float = 0.0
    ground_hours: float = 0.0  # on-loading at the port of embarkation (aircraft ground time; ship loading)
    unload_hours: float = 0.0  # off-loading at the port of debarkation
    utilisation_hours_per_day: float = 24.0  # aircraft: flying hours a day one aircraft sustains
    outsize: bool = False
    activation_hours: float = 0.0  # ships: time to break out of reduced operating status
    trains_per_day: float = 0.0  # rail: default corridor capacity where a link gives none


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    country: str
    lat: float
    lon: float
    air: bool
    sea: bool
    rail: bool
    mog: int | None = None  # aircraft on the ground at once (working MOG); None = not constraining
    berths: int | None = None  # ships loading or unloading at once; None = not constraining


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    mode: Mode
    distance_km: float
    trains_per_day: float | None = None
    delay_hours: float = 0.0


@dataclass(frozen=True)
class Reception:
    """Reception, staging, onward movement and integration (RSOI) at the destination, and drawing
    prepositioned stocks."""

    rsoi_hours_heavy: float
    rsoi_hours_light: float
    aps_draw_hours: float
    readiness_hours_light: float = 0.0  # from order to first departure (no rail loading)
    readiness_hours_heavy: float = 0.0  # from order to first departure (rail loading at home station)


#: Broad-gauge (1520/1524 mm) railways; the rest of Europe is 1435 mm. Rail Baltica's standard-gauge line already
#: reaches Kaunas from the Polish border, so its terminals there count as standard gauge.
BROAD_GAUGE = frozenset({"EST", "LVA", "LTU", "FIN", "UKR", "MDA", "BLR", "RUS"})
STANDARD_GAUGE_IN_BROAD = frozenset({"palemonas", "sestokai"})


def gauge(node: Node) -> str:
    return "broad" if node.country in BROAD_GAUGE and node.id not in STANDARD_GAUGE_IN_BROAD else "standard"


def great_circle_km(a: Node, b: Node) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Network:
    nodes: dict[str, Node]
    links: dict[tuple[str, str, str], Link]  # (a, b, mode), both directions
    circuity: float = 1.3  # land distance / great-circle distance where no link is given
    gauge_change_hours: float = 0.0  # added to computed rail legs between 1520/1524 mm and 1435 mm networks

    def link(self, a: str, b: str, mode: str) -> Link | None:
        return self.links.get((a, b, mode))

    def land(self, a: str, b: str, mode: Mode) -> Link:
        """The rail or road link from a to b: the table's, else great-circle x circuity (uncapacitated)."""
        if a == b:
            return Link(a, b, mode, 0.0)
        found = self.link(a, b, mode)
        if found is not None:
            return found
        delay = 0.0
        if mode == "rail" and gauge(self.nodes[a]) != gauge(self.nodes[b]):
            delay = self.gauge_change_hours
        return Link(a, b, mode, great_circle_km(self.nodes[a], self.nodes[b]) * self.circuity, delay_hours=delay)

    def in_country(self, country: str, kind: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.country == country and getattr(n, kind)]


@dataclass(frozen=True)
class Move:
    """One force to move: who, how many people and how much cargo, from where to where, from when.

    ``outsize_loads``: C-17-equivalent loads of cargo only outsize-capable aircraft can carry (tanks, IFVs);
    ``stons``: all cargo in short tons. Times are hours from the simulation start."""

    id: str
    label: str
    owner: str
    unit_type: str
    lift_class: str
    personnel: int
    stons: float
    outsize_loads: float
    origin: str
    destination: str
    release_hours: float = 0.0
    due_hours: float | None = None
    mode: str = "auto"
    priority: int = 0
    prepositioned: bool = False
    inbound: bool = True  # arriving forces go through reception (RSOI); departing ones do not
    action_line: int | None = None
    lift: dict[str, float] = field(default_factory=dict)  # dedicated assets: {"c17": 40} = 40 C-17s
    lift_group: str = ""  # moves of one action share its dedicated lift (default: the move alone)
    ready_on_release: bool = False  # alerts: the notice period already covers getting ready
