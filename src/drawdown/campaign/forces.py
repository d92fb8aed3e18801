"""Who fights on each axis: defenders from the posture timeline (plus the defending nations' standing forces),
attackers from the adversary order of battle. Works on in-memory tables only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from drawdown.campaign import Arrival, Axis, Coefficient
from drawdown.data import Dataset
from drawdown.scenario.model import Contingency

ADVERSARIES = ("RUS", "BLR")


@dataclass
class TheatreForces:
    """The inputs of one campaign run, with where each number came from."""

    theatre: str
    date: dt.date
    axes: list[Axis]
    defenders_by_country: dict[str, float]
    attacker_bn_eq: float
    attacker_units: float
    defender_units: list[dict[str, object]]
    aircraft: float = 0.0  # US combat aircraft in Europe committed (the allied ones are a drawn coefficient)


def coefficients(data: Dataset, parameters: dict[str, object] | None = None) -> dict[str, Coefficient]:
    """The campaign coefficients, with any the scenario fixed (`set: {path: campaign.coefficient.NAME}`)."""
    coefs = {r.name: Coefficient(r.name, r.distribution, float(r.low), float(r.high), r.source)
             for r in data.tables["campaign_coefficients"].itertuples()}
    for path, value in (parameters or {}).items():
        if path.startswith("campaign.coefficient.") and isinstance(value, (int, float)):
            name = path.removeprefix("campaign.coefficient.")
            coefs[name] = Coefficient(name, "fixed", float(value), float(value), "scenario set")
    return coefs


def _type_power(data: Dataset) -> pd.Series:
    types = data.unit_types.set_index("id")
    return types["power"].where(types["power_unit"] == "bn_eq", 0.0).astype(float)


def _listed(data: Dataset, forces: dict[str, dict[str, float]]) -> list[dict[str, object]]:
    power = _type_power(data)
    return [{"owner": country, "country": country, "unit_type": unit_type, "count": float(count),
             "bn_eq": float(count) * float(power.get(unit_type, 0.0)), "source": "scenario"}
            for country, units in forces.items() for unit_type, count in units.items()]


def theatre_countries(data: Dataset, theatre: str) -> list[str]:
    """The nations whose forces count in a theatre: its own, and every nation defending one of its axes."""
    theatres = data.tables["theatres"].set_index("id")
    axes = data.tables["axes"]
    rows = axes[axes["theatre"] == theatre]
    return list(dict.fromkeys(str(theatres.at[theatre, "countries"]).split(";")
                              + [c for r in rows.itertuples() for c in str(r.defended_by).split(";")]))


def theatre_forces(data: Dataset, contingency: Contingency, posture: pd.DataFrame | None) -> TheatreForces:
    """Assemble the forces on each axis of ``contingency.theatre``.

    ``posture`` is the timeline's holdings on the phase the attack falls in (None when the scenario replaces the
    defenders). Manoeuvre power only (battalion-equivalents): fires, air and air defence enter through the
    coefficients."""
    theatre = data.tables["theatres"].set_index("id").loc[contingency.theatre]
    axes_table = data.tables["axes"]
    rows = axes_table[axes_table["theatre"] == contingency.theatre]
    countries = theatre_countries(data, contingency.theatre)
    units: list[dict[str, object]] = []
    if contingency.defenders is not None:
        units += _listed(data, contingency.defenders)
    else:
        if posture is not None:
            present = posture[posture["country"].isin(countries) & ~posture["owner"].isin(ADVERSARIES)
                              & (posture["power_unit"] == "bn_eq")]
            for row in present.itertuples():
                units.append({"owner": row.owner, "country": row.country, "unit_type": row.unit_type,
                              "count": None, "bn_eq": float(row.power), "source": row.element_id})
        if contingency.national_forces:
            units += _national(data, countries, contingency.date)
    if contingency.add_defenders:
        units += _listed(data, contingency.add_defenders)
    by_country = {c: 0.0 for c in countries}
    for unit in units:
        if unit["country"] in by_country:
            by_country[str(unit["country"])] += float(unit["bn_eq"])  # type: ignore[arg-type]

    adversary = data.adversary_on(contingency.attacker_date or contingency.date, str(theatre["adversary_theatre"]))
    ground = adversary[(adversary["category"] == "manoeuvre") & (adversary["power_unit"] == "bn_eq")
                       & adversary["owner"].isin(contingency.attackers_from)]
    presence = contingency.attacker_presence
    by_owner = {owner: float((g["count"] * g["type_power"]).sum()) * presence for owner, g in ground.groupby("owner")}

    defends = {c: [r.id for r in rows.itertuples() if c in str(r.defended_by).split(";")] for c in countries}
    segments = axis_segments(data)
    # each attacking nation splits its force over the axes it attacks along, by their shares
    shares = {owner: sum(float(r.attacker_share) for r in rows.itertuples()
                         if owner in str(r.attackers_from).split(";")) for owner in by_owner}
    attack = {row.id: sum(power * float(row.attacker_share) / shares[owner]
                          for owner, power in by_owner.items()
                          if owner in str(row.attackers_from).split(";") and shares[owner] > 0)
              for row in rows.itertuples()}

    def share(country: str, axis_id: str) -> float:
        """A nation defending several axes spreads its forces in proportion to the attack on each (evenly when
        none is attacked)."""
        mine = defends.get(country, [])
        if not mine:
            return 0.0
        total = sum(attack[a] for a in mine)
        return attack[axis_id] / total if total > 0 else 1.0 / len(mine)

    axes = []
    for row in rows.itertuples():
        defenders = sum(by_country.get(c, 0.0) * share(c, row.id) for c in str(row.defended_by).split(";"))
        axes.append(Axis(row.id, row.objective, float(row.length_km), defenders, attack[row.id],
                         segments.get(row.id, ())))
    aircraft = (float(contingency.us_aircraft) if contingency.us_aircraft is not None
                else us_aircraft(data, posture, contingency.date))
    return TheatreForces(contingency.theatre, contingency.date, axes, by_country, sum(by_owner.values()),
                         float(ground["count"].sum()) * presence, units, aircraft)


#: Combat aircraft per fighter squadron (assumption_unitcost_equipment_sets).
AIRCRAFT_PER_SQUADRON = 24


def us_aircraft(data: Dataset, posture: pd.DataFrame | None, date: dt.date) -> float:
    """US combat aircraft in Europe: 24 per fighter-squadron equivalent, from the posture on the attack date
    (or, where the scenario replaces the defenders, from the force tables on that date). Aircraft fly from
    anywhere in Europe to a Baltic fight, so the whole of Europe counts."""
    if posture is not None:
        rows = posture[(posture["owner"] == "USA") & (posture["power_unit"] == "fighter_sqn_eq")]
        return AIRCRAFT_PER_SQUADRON * float(rows["power"].sum())
    types = data.unit_types.set_index("id")
    forces = data.forces_on(date)
    rows = forces[(forces["owner"] == "USA") & forces["unit_type"].map(
        lambda t: t in types.index and types.at[t, "power_unit"] == "fighter_sqn_eq")]
    squadrons = sum(float(r.personnel) / float(types.at[r.unit_type, "personnel"]) * float(types.at[r.unit_type, "power"])
                    for r in rows.itertuples())
    return AIRCRAFT_PER_SQUADRON * squadrons


def _national(data: Dataset, countries: list[str], date: dt.date) -> list[dict[str, object]]:
    """Standing national formations valid on ``date`` (reserve formations are mobilised only with warning and are
    left to `add_defenders`); strength from the row, else the unit type's standard strength."""
    table = data.tables["national_forces"]
    power = _type_power(data)
    types = data.unit_types.set_index("id")
    rows = table[table["country"].isin(countries) & (table["posture"] == "permanent")
                 & (table["valid_from"].isna() | (table["valid_from"] <= date))
                 & (table["valid_to"].isna() | (table["valid_to"] >= date))]
    units = []
    for row in rows.itertuples():
        share = 1.0 if pd.isna(row.personnel) else float(row.personnel) / float(types.at[row.unit_type, "personnel"])
        units.append({"owner": row.owner, "country": row.country, "unit_type": row.unit_type, "count": share,
                      "bn_eq": share * float(power.get(row.unit_type, 0.0)), "source": row.id})
    return units


def axis_segments(data: Dataset) -> dict[str, tuple[tuple[float, str], ...]]:
    """Each axis's segments in order: (length_km, terrain)."""
    table = data.tables.get("axis_segments")
    if table is None:
        return {}
    out: dict[str, tuple[tuple[float, str], ...]] = {}
    for axis, group in table.sort_values(["axis", "seq"]).groupby("axis"):
        out[str(axis)] = tuple((float(r.length_km), str(r.terrain)) for r in group.itertuples())
    return out


def defended_axes(data: Dataset, theatre: str) -> dict[str, list[int]]:
    """For each nation, the indices (in ``theatre_forces`` order) of the axes it defends."""
    axes_table = data.tables["axes"]
    rows = list(axes_table[axes_table["theatre"] == theatre].itertuples())
    out: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for country in str(row.defended_by).split(";"):
            out.setdefault(country, []).append(i)
    return out


def arrivals(data: Dataset, theatre: str, units: list[dict[str, object]]) -> tuple[list[Arrival], list[str]]:
    """Reinforcements as arrivals on the axes their destination nation defends (split evenly).

    ``units``: dicts with who, unit_type, count, to, hour, source. Returns the arrivals and the nations that
    defend no axis of the theatre (for the caller's error)."""
    power = _type_power(data)
    axes_of = defended_axes(data, theatre)
    out: list[Arrival] = []
    missing: list[str] = []
    for unit in units:
        to = str(unit["to"])
        targets = axes_of.get(to, [])
        if not targets:
            missing.append(to)
            continue
        bn_eq = float(unit["count"]) * float(power.get(str(unit["unit_type"]), 0.0))  # type: ignore[arg-type]
        for i in targets:
            out.append(Arrival(float(unit["hour"]), i, bn_eq / len(targets), str(unit.get("source", ""))))  # type: ignore[arg-type]
    return out, missing
