"""The cost model: what units and equipment cost to buy and to run, in constant US$ of a stated base year.

Prices come from ``unit_costs`` and ``equipment_costs`` (one chosen row per item, alternatives kept): the chosen
row gives the central figure, the cheapest and dearest rows the range, so conflicting sources become an
uncertainty band instead of a silent choice. Then-year figures are moved to the base year with the US GDP price
deflator (``deflators``). A running cost that no source gives is a declared rule: personnel times a yearly cost
per person plus a yearly operations-and-support share of the acquisition price (parameters ``cost.*``).

The engine reads no files and prints nothing: it takes the dataset and returns plain data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drawdown.data import Dataset
from drawdown.errors import DrawdownError, did_you_mean

__all__ = ["Price", "ItemCost", "CostBook", "cost_buylist", "cost_additions", "european_additions", "spending_lines"]


@dataclass(frozen=True)
class Price:
    """A figure in base-year US$ m: ``mid`` from the chosen source, ``low``/``high`` across the alternatives."""

    mid: float
    low: float
    high: float
    basis: str  # the source ids, or the rule used

    def __mul__(self, k: float) -> Price:
        return Price(self.mid * k, self.low * k, self.high * k, self.basis)

    __rmul__ = __mul__

    def __add__(self, other: Price) -> Price:
        basis = self.basis if self.basis == other.basis or not other.basis else (other.basis if not self.basis else "sum")
        return Price(self.mid + other.mid, self.low + other.low, self.high + other.high, basis)

    def as_dict(self, digits: int = 1) -> dict[str, Any]:
        return {"mid": round(self.mid, digits), "low": round(self.low, digits), "high": round(self.high, digits),
                "basis": self.basis}


ZERO = Price(0.0, 0.0, 0.0, "")


@dataclass(frozen=True)
class ItemCost:
    """What one unit or equipment item costs: to buy, and every year to run."""

    id: str
    kind: str  # unit_type | equipment
    acquisition: Price
    annual: Price
    personnel: int = 0


@dataclass
class CostBook:
    """Prices in constant US$ m of ``base_year`` for every unit type and equipment item that has them."""

    data: Dataset
    base_year: int
    personnel_usd_per_troop: float
    om_share: float
    _cache: dict[tuple[str, str], ItemCost] = field(default_factory=dict, repr=False)
    _index: pd.Series | None = field(default=None, repr=False)

    @classmethod
    def from_parameters(cls, data: Dataset, parameters: dict[str, Any] | None = None, *,
                        base_year: int | None = None, personnel_usd_per_troop: float | None = None) -> CostBook:
        """A book using the scenario's parameters (defaults from the parameters table)."""
        table = {r["path"]: r["default"] for _, r in data.parameters.iterrows()}
        merged = {**table, **(parameters or {})}
        return cls(data, int(base_year or merged["cost.base_year"]),
                   float(personnel_usd_per_troop or merged["cost.personnel_usd_per_troop"]),
                   float(merged["cost.om_share_of_acquisition"]))

    # ---- money across years ------------------------------------------------------------------------
    @property
    def _deflators(self) -> pd.Series:
        if self._index is None:  # read once per book: to_base runs for every price row
            self._index = self.data.tables["deflators"].set_index("year")["us_gdp_deflator"].astype(float)
        return self._index

    def to_base(self, value: float, year: int | None) -> float:
        """A then-year US$ figure in base-year US$ (figures without a year are taken as base-year)."""
        if year is None or (isinstance(year, float) and math.isnan(year)):
            return value
        index = self._deflators
        year = int(min(max(int(year), int(index.index.min())), int(index.index.max())))
        if self.base_year not in index.index:
            raise DrawdownError.single(f"no price deflator for the base year {self.base_year}",
                                       field="cost.base_year",
                                       suggestion=f"choose a year from {index.index.min()} to {index.index.max()}")
        return value * float(index[self.base_year]) / float(index[year])

    def exchange(self) -> tuple[float, int]:
        """Euros per US dollar for the base year, or the nearest year with a rate (earlier first on a tie), and
        the year used: the table has gaps (see docs/data-gaps.md)."""
        table = self.data.tables["deflators"]
        rows = table[table["eur_per_usd"].notna()]
        if rows.empty:
            raise DrawdownError.single("no euro exchange rate in the deflators table", field="eur_per_usd")
        years = rows["year"].astype(int).to_numpy()
        best = int(years[np.lexsort((years, np.abs(years - self.base_year)))[0]])
        return float(rows.loc[rows["year"] == best, "eur_per_usd"].iloc[0]), best

    def eur_per_usd(self) -> float:
        return self.exchange()[0]

    # ---- prices ------------------------------------------------------------------------------------
    def _price(self, rows: pd.DataFrame, column: str) -> Price | None:
        rows = rows[rows[column].notna()]
        if rows.empty:
            return None
        values = [self.to_base(float(r[column]), r.get("base_year")) for _, r in rows.iterrows()]
        chosen = rows["chosen"].astype(bool).to_numpy()
        mid = values[int(chosen.argmax())] if chosen.any() else values[0]
        sources = [str(s) for s in rows["source"]]
        first = sources[int(chosen.argmax())] if chosen.any() else sources[0]
        basis = first + (f" (range over {len(values)} sources)" if len(values) > 1 else "")
        return Price(mid, min(values), max(values), basis)

    def unit(self, unit_type: str) -> ItemCost:
        """Cost of one new unit of ``unit_type``: major equipment, and yearly running cost incl. personnel."""
        key = ("unit_type", unit_type)
        if key in self._cache:
            return self._cache[key]
        types = self.data.unit_types.set_index("id")
        if unit_type not in types.index:
            raise DrawdownError.single(f"unknown unit type '{unit_type}'", field="unit_type",
                                       suggestion=did_you_mean(unit_type, types.index))
        rows = self.data.tables["unit_costs"]
        rows = rows[rows["unit_type"] == unit_type]
        personnel = int(types.at[unit_type, "personnel"])
        acquisition = self._price(rows, "acquisition_usd_m")
        if acquisition is None:
            raise DrawdownError.single(
                f"no acquisition cost for unit type '{unit_type}' in unit_costs",
                field="unit_type", suggestion="priced types: " + ", ".join(self.priced_unit_types()))
        annual = self._price(rows, "annual_usd_m") or self.running_rule(acquisition, personnel)
        cost = ItemCost(unit_type, "unit_type", acquisition, annual, personnel)
        self._cache[key] = cost
        return cost

    def running_rule(self, acquisition: Price, personnel: int) -> Price:
        """Yearly running cost where no source gives one: personnel at the yearly cost per person plus the
        operations-and-support share of the acquisition price."""
        pay = personnel * self.personnel_usd_per_troop / 1e6
        return Price(pay + self.om_share * acquisition.mid, pay + self.om_share * acquisition.low,
                     pay + self.om_share * acquisition.high,
                     "rule: cost.personnel_usd_per_troop x personnel + cost.om_share_of_acquisition x acquisition")

    def equipment(self, item: str) -> ItemCost:
        """Cost of one equipment item: price, and yearly operations and support without crews."""
        key = ("equipment", item)
        if key in self._cache:
            return self._cache[key]
        table = self.data.tables["equipment_costs"]
        rows = table[table["item"] == item]
        if rows.empty:
            raise DrawdownError.single(f"unknown equipment item '{item}'", field="equipment",
                                       suggestion=did_you_mean(item, table["item"].unique()))
        acquisition = self._price(rows, "unit_usd_m")
        assert acquisition is not None  # unit_usd_m is required by the catalogue
        annual = self._price(rows, "annual_usd_m") or Price(
            self.om_share * acquisition.mid, self.om_share * acquisition.low, self.om_share * acquisition.high,
            "rule: cost.om_share_of_acquisition x price")
        cost = ItemCost(item, "equipment", acquisition, annual)
        self._cache[key] = cost
        return cost

    def equipment_choice(self, items: str | list[str]) -> ItemCost:
        """Cost of one item where several are acceptable: the first item's chosen price in the middle, the range
        over every price of every listed item (e.g. US-made against European-made fighters)."""
        names = [items] if isinstance(items, str) else list(items)
        costs = [self.equipment(name) for name in names]
        if len(costs) == 1:
            return costs[0]
        first = costs[0]

        def spread(kind: str) -> Price:
            prices = [getattr(c, kind) for c in costs]
            return Price(getattr(first, kind).mid, min(p.low for p in prices), max(p.high for p in prices),
                         f"{getattr(first, kind).basis}; range over {', '.join(names)}")

        return ItemCost("|".join(names), "equipment", spread("acquisition"), spread("annual"))

    def priced_unit_types(self) -> list[str]:
        rows = self.data.tables["unit_costs"]
        return sorted(rows.loc[rows["acquisition_usd_m"].notna(), "unit_type"].unique())


# ---- spending against the lines -----------------------------------------------------------------------

def gdp_base(book: CostBook, nations: list[str]) -> dict[str, float]:
    """GDP of each nation in base-year US$ m (the table's current-dollar GDP moved to the base year)."""
    table = book.data.nations.set_index("iso3")
    out = {}
    for code in nations:
        gdp = table.at[code, "gdp_usd_bn"] if code in table.index else None
        if gdp is None or pd.isna(gdp):
            continue
        year = table.at[code, "milex_year"]
        out[code] = book.to_base(float(gdp) * 1000.0, None if pd.isna(year) else int(year))
    return out


def spending_lines(book: CostBook, nations: list[str], parameters: dict[str, Any]) -> dict[str, Any]:
    """Each nation's latest defence spending in base-year US$ m and % of GDP, with the 2 % and core lines."""
    table = book.data.nations.set_index("iso3")
    gdp = gdp_base(book, nations)
    low = float(parameters.get("balance.spending_line_low", 2.0))
    core = float(parameters.get("balance.spending_line_core", 3.5))
    rows = {}
    for code, g in gdp.items():
        milex = table.at[code, "milex_usd_m"]
        year = table.at[code, "milex_year"]
        spend = book.to_base(float(milex), None if pd.isna(year) else int(year)) if not pd.isna(milex) else None
        rows[code] = {"gdp_usd_m": round(g, 1), "milex_usd_m": None if spend is None else round(spend, 1),
                      "milex_pct_gdp": None if spend is None else round(100 * spend / g, 3),
                      "line_low_usd_m": round(g * low / 100, 1), "line_core_usd_m": round(g * core / 100, 1)}
    return {"line_low_pct": low, "line_core_pct": core, "nations": rows}


# ---- a costed buy list (the `cost:` block) ---------------------------------------------------------------

def cost_buylist(block: Any, book: CostBook, payers: list[str], parameters: dict[str, Any], *,
                 us_present: int = 0) -> dict[str, Any]:
    """Acquisition, yearly and life-cycle cost of a buy list, split over the payers by GDP.

    ``block`` is the scenario's `cost` block (a :class:`drawdown.scenario.model.CostBlock`); ``us_present`` the
    US troops in Europe on the start date, added to the personnel when the block asks to replace them."""
    years = int(block.life_cycle_years or parameters["cost.life_cycle_years"])
    per_troop = float(block.personnel_usd_per_troop or book.personnel_usd_per_troop)
    lines = []
    acquisition, annual = ZERO, ZERO
    for item in block.items:
        cost = book.unit(item.unit_type) if item.unit_type else book.equipment_choice(item.equipment)
        buy, run = cost.acquisition * item.count, cost.annual * item.count
        acquisition, annual = acquisition + buy, annual + run
        lines.append({"kind": cost.kind, "id": cost.id, "count": item.count, "note": item.note,
                      "unit_acquisition_usd_m": cost.acquisition.as_dict(2), "acquisition_usd_m": buy.as_dict(),
                      "annual_usd_m": run.as_dict()})
    personnel = block.personnel + (us_present if block.add_us_presence else 0)
    pay = personnel * per_troop / 1e6
    annual = annual + Price(pay, pay, pay, "personnel x cost per troop")
    life = acquisition + annual * years
    gdp = gdp_base(book, payers)
    total_gdp = sum(gdp.values())
    shares = {c: g / total_gdp for c, g in gdp.items()} if total_gdp else {}
    eur, eur_year = book.exchange()
    document: dict[str, Any] = {
        "base_year": book.base_year, "currency": "USD", "eur_per_usd": eur, "eur_rate_year": eur_year,
        "life_cycle_years": years,
        "items": lines,
        "acquisition_usd_m": acquisition.as_dict(), "annual_usd_m": annual.as_dict(),
        "personnel": personnel, "personnel_from_us_presence": us_present if block.add_us_presence else 0,
        "personnel_usd_per_troop": per_troop,
        "personnel_annual_usd_m": round(pay, 1),
        "life_cycle_usd_m": life.as_dict(),
        "payers": {c: {"share": round(s, 4), "life_cycle_usd_m": round(life.mid * s, 1),
                       "annual_usd_m": round(annual.mid * s, 1),
                       "annual_pct_gdp": round(100 * annual.mid * s / gdp[c], 3)} for c, s in shares.items()},
    }
    brigade = block.troops_per_brigade
    if brigade is None and block.brigade_type is not None:
        brigade = float(book.data.unit_types.set_index("id").at[block.brigade_type, "personnel"])
    if brigade:
        document["troops_per_brigade"] = brigade
        document["brigades"] = round(personnel / brigade, 1)
    if block.spending_to_pct is not None:
        lines_now = spending_lines(book, payers, parameters)["nations"]
        gap = 0.0
        for code, g in gdp.items():
            before = (g * block.spending_from_pct / 100 if block.spending_from_pct is not None
                      else lines_now[code]["milex_usd_m"] or 0.0)
            gap += max(0.0, g * block.spending_to_pct / 100 - before)
        document["spending_gap"] = {"from_pct": block.spending_from_pct, "to_pct": block.spending_to_pct,
                                    "gdp_usd_m": round(total_gdp, 1), "annual_usd_m": round(gap, 1),
                                    "annual_eur_m": round(gap * eur, 1)}
    if block.currency == "EUR":
        document["currency"] = "EUR"
        document["eur"] = {"acquisition_m": round(acquisition.mid * eur, 1), "annual_m": round(annual.mid * eur, 1),
                           "life_cycle_m": round(life.mid * eur, 1)}
    return document


# ---- what a posture change adds, per nation and year -------------------------------------------------------

def cost_additions(additions: pd.DataFrame, book: CostBook, horizon_years: list[int]) -> pd.DataFrame:
    """Yearly cost of European additions.

    ``additions``: rows ``nation, unit_type, year, units`` = units fielded in that year (new, not moved).
    Acquisition falls in the year fielded; running cost in every later year of ``horizon_years`` (from the
    year fielded, in full). Returns ``nation, year, acquisition_usd_m, running_usd_m, total_usd_m``."""
    rows = []
    for nation, group in additions.groupby("nation"):
        for year in horizon_years:
            buy = run = 0.0
            for r in group.itertuples():
                cost = book.unit(str(r.unit_type))
                if int(r.year) == year:
                    buy += cost.acquisition.mid * float(r.units)
                if int(r.year) <= year:
                    run += cost.annual.mid * float(r.units)
            rows.append({"nation": nation, "year": year, "acquisition_usd_m": buy, "running_usd_m": run,
                         "total_usd_m": buy + run})
    return pd.DataFrame(rows, columns=["nation", "year", "acquisition_usd_m", "running_usd_m", "total_usd_m"])


def european_additions(holdings: pd.DataFrame, dates: list[Any], book: CostBook) -> tuple[pd.DataFrame, list[str]]:
    """New European units a posture timeline adds (deployments and backfill), as ``nation, unit_type, year,
    units`` fielded (the unit count is personnel over the type's strength; a unit withdrawn and sent again is
    bought once), and the unit types it adds that have no price."""
    added = holdings[(holdings["owner"] != "USA") & holdings["status"].isin(["deployed", "backfill"])]
    if added.empty:
        return pd.DataFrame(columns=["nation", "unit_type", "year", "units"]), []
    strength = book.data.unit_types.set_index("id")["personnel"].astype(float)
    priced = set(book.priced_unit_types())
    per_phase = added.groupby(["owner", "unit_type", "phase"])["personnel"].sum().unstack("phase").fillna(0.0)
    unpriced = sorted(set(per_phase.index.get_level_values("unit_type")) - priced)
    rows = []
    for (owner, unit_type), series in per_phase.iterrows():
        if unit_type not in priced:
            continue
        peak = series.cummax()
        for phase, step in peak.diff().fillna(peak.iloc[0]).items():
            if step > 0:
                rows.append({"nation": owner, "unit_type": unit_type, "year": dates[int(phase)].year,
                             "units": step / strength[unit_type]})
    frame = pd.DataFrame(rows, columns=["nation", "unit_type", "year", "units"])
    return frame.groupby(["nation", "unit_type", "year"], as_index=False)["units"].sum(), unpriced
