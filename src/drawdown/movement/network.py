"""Build the movement engine's inputs from the bundled tables (in memory: the Dataset is already loaded).

``lift_assets`` says what each asset is (mode); ``lift_parameters`` gives its figures as planning value with an
optional published range (``low``/``high``, sampled uniformly when the engine is asked for samples);
``lift_nodes`` and ``lift_links`` the network; ``prepositioned`` the stocks in Europe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from drawdown.data import Dataset
from drawdown.movement.model import Asset, Link, Network, Node, Reception

KNOTS_TO_KMH = 1.852


@dataclass(frozen=True)
class Figure:
    value: float
    low: float | None
    high: float | None
    source: str
    unit: str = ""

    def draw(self, rng: np.random.Generator | None) -> float:
        if rng is None or self.low is None or self.high is None or self.low == self.high:
            return self.value
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LiftData:
    """Everything the movement engine needs, with the source of every figure."""

    network: Network
    modes: dict[str, str]  # asset id -> mode
    names: dict[str, str]
    figures: dict[str, dict[str, Figure]]  # asset -> parameter -> figure
    prepositioned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    base: LiftData | None = None  # the bundled figures this copy overrides (None: these are the bundled ones)

    @property
    def bundled(self) -> LiftData:
        return self.base or self

    def parameter_paths(self) -> list[str]:
        return sorted(f"{a}.{p}" for a, params in self.figures.items() for p in params)

    def with_overrides(self, overrides: dict[str, float]) -> LiftData:
        """A copy with ``{"asset.parameter": value}`` replacing planning values (and their ranges)."""
        figures = {a: dict(p) for a, p in self.figures.items()}
        for path, value in overrides.items():
            asset, _, parameter = path.partition(".")
            figures.setdefault(asset, {})[parameter] = Figure(float(value), None, None, "scenario override")
        return LiftData(self.network, self.modes, self.names, figures, self.prepositioned, self.bundled)

    def value(self, asset: str, parameter: str, default: float | None = None,
              rng: np.random.Generator | None = None) -> float:
        figure = self.figures.get(asset, {}).get(parameter)
        if figure is None:
            if default is None:
                raise KeyError(f"lift parameter {asset}.{parameter} is missing from lift_parameters")
            return default
        return figure.draw(rng)

    def assets(self, rng: np.random.Generator | None = None) -> dict[str, Asset]:
        """Assets with planning values (``rng`` None) or one draw of every uncertain figure."""
        out: dict[str, Asset] = {}
        for asset_id in sorted(self.modes):
            mode = self.modes[asset_id]
            v = lambda p, d=None: self.value(asset_id, p, d, rng)  # noqa: E731
            if mode == "air":
                available = self.figures[asset_id].get("available")
                n = available.draw(rng) if available else v("fleet", 0.0) * v("mission_capable", 1.0) * \
                    v("committed_share", 1.0)
                out[asset_id] = Asset(
                    asset_id, self.names[asset_id], "air", available=int(math.floor(n + 1e-9)),
                    payload_stons=v("payload_stons", 0.0), passengers=int(v("passengers", 0.0)),
                    speed_kmh=v("block_speed_kmh"), ground_hours=v("onload_hours"), unload_hours=v("offload_hours"),
                    utilisation_hours_per_day=v("utilisation_hours_per_day", 24.0), outsize=bool(v("outsize", 0.0)))
            elif mode == "sea":
                available = self.figures[asset_id].get("available")
                n = available.draw(rng) if available else v("ships", 0.0) * v("committed_share", 1.0)
                out[asset_id] = Asset(
                    asset_id, self.names[asset_id], "sea", available=int(math.floor(n + 1e-9)),
                    payload_stons=v("capacity_stons"), speed_kmh=v("speed_knots") * KNOTS_TO_KMH,
                    ground_hours=v("load_days") * 24, unload_hours=v("unload_days") * 24,
                    activation_hours=v("activation_days", 0.0) * 24)
            elif mode == "rail":
                out[asset_id] = Asset(asset_id, self.names[asset_id], "rail", payload_stons=v("train_stons"),
                                      speed_kmh=v("speed_kmh"), trains_per_day=v("trains_per_day"))
            elif mode == "road":
                out[asset_id] = Asset(asset_id, self.names[asset_id], "road", speed_kmh=v("speed_kmh"))
        return out

    def reception(self, rng: np.random.Generator | None = None) -> Reception:
        return Reception(rsoi_hours_heavy=self.value("reception", "rsoi_days", rng=rng) * 24,
                         rsoi_hours_light=self.value("reception", "rsoi_days_light", rng=rng) * 24,
                         aps_draw_hours=self.value("aps", "draw_days", rng=rng) * 24,
                         readiness_hours_light=self.value("readiness", "light_hours", 0.0, rng),
                         readiness_hours_heavy=self.value("readiness", "heavy_hours", 0.0, rng))

    def network_for(self, rng: np.random.Generator | None = None) -> Network:
        """The network with this draw's (or the overridden) circuity and gauge-change time."""
        return replace(self.network, circuity=self.value("network", "circuity", self.network.circuity, rng),
                       gauge_change_hours=self.value("rail_military", "gauge_change_hours", 0.0, rng))


def _opt(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value) \
        else float(value)  # type: ignore[arg-type]


def lift_data(data: Dataset) -> LiftData:
    nodes = {}
    for r in data.tables["lift_nodes"].itertuples():
        nodes[r.id] = Node(r.id, r.name, r.country, float(r.lat), float(r.lon), bool(r.air), bool(r.sea),
                           bool(r.rail), mog=None if pd.isna(r.mog) else int(r.mog),
                           berths=None if pd.isna(r.berths) else int(r.berths))
    for r in data.sites.itertuples():  # every site is a place forces can come from or go to
        if r.id not in nodes:
            nodes[r.id] = Node(r.id, r.name, r.country, float(r.lat), float(r.lon),
                               air=r.kind in ("air_base", "airfield"), sea=r.kind == "port", rail=True)
    links: dict[tuple[str, str, str], Link] = {}
    for r in data.tables["lift_links"].itertuples():
        a, b = getattr(r, "_1"), r.to  # "from" is a keyword: itertuples renames it
        for x, y in ((a, b), (b, a)):
            links[(x, y, r.mode)] = Link(x, y, r.mode, float(r.distance_km), _opt(r.trains_per_day),
                                         _opt(r.delay_hours) or 0.0)
    assets = data.tables["lift_assets"]
    modes = dict(zip(assets["id"], assets["mode"]))
    names = dict(zip(assets["id"], assets["name"]))
    figures: dict[str, dict[str, Figure]] = {a: {} for a in modes}
    params = data.tables["lift_parameters"]
    params = params[params["chosen"]]
    for r in params.itertuples():
        figures.setdefault(r.asset, {})[r.parameter] = Figure(float(r.value), _opt(r.low), _opt(r.high), r.source,
                                                              r.unit if isinstance(r.unit, str) else "")
    circuity = figures.get("network", {}).get("circuity")
    network = Network(nodes, links, circuity.value if circuity else 1.3)
    stocks: dict[str, list[str]] = {}
    for r in data.tables["prepositioned"].itertuples():
        stocks.setdefault(r.unit_type, []).append(r.site)
    return LiftData(network, modes, names, figures, {k: tuple(v) for k, v in stocks.items()})
