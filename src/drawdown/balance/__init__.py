"""Force balance: what a posture timeline means, phase by phase.

Pure computation over a :class:`~drawdown.scenario.timeline.PostureTimeline` and the dataset: US troops and
combat power by country, group and phase; what leaves each phase by capability category; what remains on the
eastern flank; and each European nation's defence spending against the 2 % and Hague 3.5 % core lines.
Combat power is only ever summed within one ``power_unit`` (battalion-equivalents, fighter-squadron
equivalents, fire units, ships): categories are never mixed into one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from drawdown.data import Dataset
from drawdown.scenario.timeline import PostureTimeline

CATEGORIES = ["manoeuvre", "fires", "air", "air_missile_defence", "isr", "lift", "tanker", "c2", "naval", "support"]
EASTERN_FLANK_GROUP = "eastern_flank"


@dataclass
class BalanceResult:
    """Tables derived from a timeline; every frame is long-format with a ``phase`` and ``date`` column."""

    owner: str
    troops_by_country: pd.DataFrame  # phase, date, country, personnel
    troops_by_group: pd.DataFrame  # phase, date, group, personnel
    power_by_category: pd.DataFrame  # phase, date, country, category, power_unit, personnel, power
    withdrawn_by_category: pd.DataFrame  # phase, date, category, power_unit, personnel, power (that phase)
    eastern_flank: pd.DataFrame  # phase, date, owner, personnel, power_bn_eq
    spending: pd.DataFrame  # iso3, name, pct_gdp, year, source, nato_2025e, meets_low, meets_core, gap_core_usd_m
    lines: dict[str, float]

    def totals(self) -> pd.Series:
        """Owner's troops in Europe by phase date."""
        return self.troops_by_country.groupby("date")["personnel"].sum()

    def withdrawn_totals(self) -> dict[str, int]:
        """Personnel withdrawn over the whole horizon, by capability category (all categories listed)."""
        sums = self.withdrawn_by_category.groupby("category")["personnel"].sum()
        return {c: int(sums.get(c, 0)) for c in CATEGORIES}


def compute_balance(timeline: PostureTimeline, data: Dataset, owner: str = "USA") -> BalanceResult:
    """Derive the force balance of ``owner`` (default the US) from ``timeline``."""
    holdings = timeline.holdings
    mine = holdings[holdings["owner"] == owner]
    dates = pd.DataFrame({"phase": range(len(timeline.dates)), "date": timeline.dates})

    by_country = mine.groupby(["phase", "date", "country"], as_index=False)["personnel"].sum()

    group_rows = []
    for group, members in sorted(data.groups.items()):
        inside = mine[mine["country"].isin(members)].groupby("phase")["personnel"].sum()
        for phase, date in zip(dates["phase"], dates["date"]):
            group_rows.append({"phase": phase, "date": date, "group": group, "personnel": int(inside.get(phase, 0))})
    by_group = pd.DataFrame(group_rows, columns=["phase", "date", "group", "personnel"])

    power = mine.groupby(["phase", "date", "country", "category", "power_unit"], as_index=False)[
        ["personnel", "power"]
    ].sum()

    withdrawn = timeline.withdrawals
    withdrawn = withdrawn[(withdrawn["owner"] == owner) & (withdrawn["reason"] == "withdrawn")]
    by_category = withdrawn.groupby(["phase", "date", "category", "power_unit"], as_index=False)[
        ["personnel", "power"]
    ].sum()

    flank_members = data.groups.get(EASTERN_FLANK_GROUP, frozenset())
    flank = holdings[holdings["country"].isin(flank_members)]
    flank_rows = []
    for (phase, date, who), rows in flank.groupby(["phase", "date", "owner"]):
        flank_rows.append({
            "phase": phase, "date": date, "owner": who, "personnel": int(rows["personnel"].sum()),
            "power_bn_eq": float(rows.loc[rows["power_unit"] == "bn_eq", "power"].sum()),
        })
    eastern_flank = pd.DataFrame(flank_rows, columns=["phase", "date", "owner", "personnel", "power_bn_eq"])

    lines = {
        "low": float(timeline.parameters.get("balance.spending_line_low", 2.0)),
        "core": float(timeline.parameters.get("balance.spending_line_core", 3.5)),
    }
    return BalanceResult(owner, by_country, by_group, power, by_category, eastern_flank,
                         spending_table(data, lines), lines)


def spending_table(data: Dataset, lines: dict[str, float]) -> pd.DataFrame:
    """European NATO members' defence spending against the 2 % and 3.5 % lines (latest figure per nation)."""
    members = data.groups.get("nato_europe", frozenset())
    nations = data.nations[data.nations["iso3"].isin(members) & data.nations["armed_forces"].astype(bool)]
    rows = []
    for _, n in nations.iterrows():
        nato = n["nato_pct_gdp_2025e"]
        pct = float(nato) if not pd.isna(nato) else (float(n["milex_pct_gdp"]) if not pd.isna(n["milex_pct_gdp"]) else None)
        basis = "NATO 2025e" if not pd.isna(nato) else f"SIPRI {n['milex_year']}"
        gdp = float(n["gdp_usd_bn"]) if not pd.isna(n["gdp_usd_bn"]) else None
        gap = None
        if pct is not None and gdp is not None:
            gap = max(0.0, (lines["core"] - pct) / 100 * gdp * 1000)
        rows.append({
            "iso3": n["iso3"], "name": n["name"], "pct_gdp": pct, "basis": basis,
            "sipri_pct_gdp": None if pd.isna(n["milex_pct_gdp"]) else float(n["milex_pct_gdp"]),
            "meets_low": pct is not None and pct >= lines["low"],
            "meets_core": pct is not None and pct >= lines["core"],
            "gap_core_usd_m": gap,
            "source": n["nato_2025e_source"] if not pd.isna(nato) else n["milex_source"],
        })
    return pd.DataFrame(rows).sort_values("iso3").reset_index(drop=True)


def balance_summary(balance: BalanceResult) -> dict[str, Any]:
    """A compact, JSON-ready view of the balance (used in the CLI output and the store)."""
    eastern = balance.eastern_flank[balance.eastern_flank["owner"] == balance.owner]
    return {
        "withdrawn_by_category": balance.withdrawn_totals(),
        "eastern_flank_us_troops": {str(d): int(p) for d, p in zip(eastern["date"], eastern["personnel"])},
        "spending_lines_pct_gdp": balance.lines,
        "nations_below_core_line": sorted(balance.spending.loc[~balance.spending["meets_core"], "iso3"].tolist()),
    }
