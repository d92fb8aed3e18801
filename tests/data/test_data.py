"""The bundled dataset: it validates, every row is sourced, headline facts match the published record, and
seeded corruptions are caught with a message naming file, line and field."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from drawdown.data import BASELINE_DATE, load_dataset
from drawdown.errors import DataError

SOURCE_COLUMNS = {
    "nations": ["membership_source"], "groups": ["source"], "sites": ["source"], "unit_types": ["source"],
    "us_forces": ["source"], "deployments": ["source"], "country_totals": ["source"], "parameters": ["source"],
}


def test_bundled_data_validates(data):
    assert data.problems == []
    release, fingerprint = data.version.split("+")  # catalogue version + hash of the table files
    assert release and len(fingerprint) == 10


@pytest.mark.parametrize("table,columns", SOURCE_COLUMNS.items())
def test_every_row_is_sourced(data, table, columns):
    sources = set(data.sources["id"])
    frame = data.tables[table]
    for column in columns:
        assert frame[column].notna().all(), f"{table}.{column} has rows without a source"
        assert set(frame[column]) <= sources
    if "as_of" in frame:
        assert frame["as_of"].notna().all()


def test_sources_have_urls_or_reasoning(data):
    for row in data.sources.itertuples():
        if row.kind == "assumption":
            assert row.notes and len(row.notes) > 20, row.id
        else:
            assert row.url, row.id


def test_europe_wide_us_total_is_in_the_published_range(data):
    total = data.forces_on(BASELINE_DATE).query("owner == 'USA'")["personnel"].sum()
    # ~80,000 assigned + routine rotations (War Powers letter, Dec 2024) to ~100,000 with surge rotations
    assert 78_000 <= total <= 105_000


@pytest.mark.parametrize("country,low,high", [
    ("DEU", 33_000, 38_000),  # DMDC Mar 2024 ~35,000; EUCOM/dpa ~37,000
    ("ITA", 12_000, 13_500),  # >12,000 to ~13,000
    ("GBR", 9_700, 12_200),   # 9,730 USAF (2022) to 11,912 MoD (2023)
    ("POL", 8_000, 10_500),   # ~8,000 (Oct 2024) to 10,500 (Mar 2022)
    ("ROU", 900, 1_100),      # ~1,000 after the Oct 2025 brigade departure
    ("XKX", 550, 650),        # ~600 US KFOR
])
def test_country_totals_spot_checks(data, country, low, high):
    total = data.forces_on(BASELINE_DATE).query("owner == 'USA' and country == @country")["personnel"].sum()
    assert low <= total <= high


def test_kfor(data):
    kfor = data.forces_on(BASELINE_DATE).query("mission == 'kfor'")
    by_owner = kfor.groupby("owner")["personnel"].sum()
    assert by_owner["ITA"] == 1258 and 550 <= by_owner["USA"] <= 650
    assert by_owner.idxmax() == "ITA" and by_owner.drop("ITA").idxmax() == "USA"
    published = data.tables["country_totals"].query("owner == 'KFOR' and chosen")["personnel"].iloc[0]
    assert 4_000 <= published <= 5_300
    assert abs(kfor["personnel"].sum() - published) / published < 0.2


def test_eight_battlegroups_and_their_framework_nations(data):
    efp = data.force_elements.query("mission == 'efp'")
    framework = efp[efp["name"].str.contains("framework", case=False)].set_index("country")["owner"].to_dict()
    assert framework == {"EST": "GBR", "LVA": "CAN", "LTU": "DEU", "POL": "USA", "SVK": "CZE", "HUN": "HUN",
                         "ROU": "FRA", "BGR": "ITA"}


def test_german_brigade_in_lithuania_builds_up(data):
    def strength(date):
        forces = data.forces_on(date)
        return forces[(forces["owner"] == "DEU") & (forces["country"] == "LTU") & (forces["mission"] != "efp")][
            "personnel"].sum()
    values = [strength(dt.date(y, m, 1)) for y, m in [(2025, 6), (2026, 3), (2026, 9), (2028, 6)]]
    assert values == sorted(values) and values[-1] >= 4_800


def test_post_1990_members_follow_accession_years(data):
    joined = data.nations.dropna(subset=["nato_joined"]).set_index("iso3")["nato_joined"]
    assert joined["POL"] == 1999 and joined["EST"] == 2004 and joined["FIN"] == 2023 and joined["SWE"] == 2024
    assert joined["DEU"] == 1955 and joined["ESP"] == 1982
    assert data.groups["post_1990"] == frozenset(joined[joined > 1990].index)
    assert len(data.groups["nato"]) == 32 and len(data.groups["eu"]) == 27


# --- seeded corruptions -------------------------------------------------------------------------------
def edit_cell(directory: Path, table: str, row_id: str, column: str, value: str) -> int:
    """Set one cell; returns the file line of the row (header = line 1)."""
    path = directory / "tables" / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    key = fields[0]
    index = next(i for i, r in enumerate(rows) if r[key] == row_id)
    rows[index][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


@pytest.mark.parametrize("table,row_id,column,value,message", [
    ("us_forces", "usa_deu_2cr", "source", "", "required value is empty"),
    ("us_forces", "usa_deu_2cr", "source", "no_such_source", "does not resolve in sources.id"),
    ("us_forces", "usa_deu_2cr", "site", "vilsek", "did you mean 'vilseck'"),
    ("us_forces", "usa_deu_2cr", "personnel", "-5", "below the minimum"),
    ("us_forces", "usa_deu_2cr", "personnel", "lots", "could not convert"),
    ("us_forces", "usa_deu_2cr", "posture", "permanant", "did you mean 'permanent'"),
    ("us_forces", "usa_deu_2cr", "country", "ITA", "site 'vilseck' is in DEU"),
    ("us_forces", "usa_deu_2cr", "id", "usa_deu_12cab", "duplicate id"),
    ("sites", "ramstein", "lat", "149.4", "above the maximum"),
])
def test_seeded_corruption_is_caught_with_its_location(data_copy, table, row_id, column, value, message):
    line = edit_cell(data_copy, table, row_id, column, value)
    with pytest.raises(DataError) as caught:
        load_dataset(data_copy)
    text = str(caught.value)
    assert message in text
    if message != "duplicate id":
        assert f"{table}.csv:{line}" in text, text


def test_totals_that_do_not_reconcile_are_caught(data_copy):
    edit_cell(data_copy, "us_forces", "usa_deu_2cr", "personnel", "9800")
    with pytest.raises(DataError) as caught:
        load_dataset(data_copy)
    text = str(caught.value)
    assert "US elements in DEU" in text and "published total is 35,000" in text


def test_group_that_contradicts_accession_years_is_caught(data_copy):
    path = data_copy / "tables" / "groups.csv"
    path.write_text(path.read_text() + "post_1990,DEU,ref_nato_member_countries,injected error\n")
    with pytest.raises(DataError, match="post_1990 disagrees with accession years"):
        load_dataset(data_copy)


def test_unknown_column_is_caught(data_copy):
    path = data_copy / "tables" / "sites.csv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("role", "rolee")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="column 'rolee' is not declared"):
        load_dataset(data_copy)


def test_non_strict_load_lists_every_problem(data_copy):
    edit_cell(data_copy, "us_forces", "usa_deu_2cr", "personnel", "-5")
    edit_cell(data_copy, "sites", "ramstein", "lat", "149.4")
    loaded = load_dataset(data_copy, strict=False)
    assert len(loaded.problems) >= 2
    assert isinstance(loaded.tables["us_forces"], pd.DataFrame)


def test_rand_2016_red_force_can_be_rebuilt_from_data(data):
    """RAND RR-1253: 22 (alt. 27) Russian manoeuvre battalions in the short-warning Baltic attack."""
    red = data.adversary_on(dt.date(2016, 1, 1), "baltic").query("owner == 'RUS' and category == 'manoeuvre'")
    ground = red[~red["unit_type"].str.contains("heli")]
    assert 22 <= ground["count"].sum() <= 28
    # the sets are dated: the pre-war formations end on the eve of the 2022 invasion
    assert data.adversary_on(dt.date(2022, 3, 1), "baltic").query("valid_to == @dt.date(2022, 2, 23)").empty


def test_adversary_rows_name_known_theatres_and_types(data):
    adversary = data.tables["adversary_forces"]
    assert set(adversary["owner"]) <= {"RUS", "BLR"}
    assert adversary["unit_type"].str.startswith("ru_").all()
    assert {"baltic", "finland", "black_sea"} <= {t for ts in adversary["theatres"] for t in ts.split(";")}
    estimates = data.tables["adversary_estimates"].set_index("quantity")
    assert estimates.loc["months_to_local_war", "value"] == 6


def test_unit_lift_and_costs_are_sourced_and_chosen_once(data):
    for name in ("unit_lift", "unit_costs"):
        frame = data.tables[name]
        assert frame.groupby("unit_type")["chosen"].sum().max() == 1
    lift = data.tables["unit_lift"].query("chosen").set_index("unit_type")
    # an ABCT is not airliftable in practice: well over a hundred C-17 loads for its armour alone
    assert lift.loc["abct", "c17_loads"] > 100
    costs = data.tables["unit_costs"].query("chosen").set_index("unit_type")
    assert costs.loc["ddg", "acquisition_usd_m"] > 1500


def test_theatre_typo_is_caught(data_copy):
    path = data_copy / "tables" / "adversary_forces.csv"
    text = path.read_text()
    path.write_text(text.replace("baltic;finland", "baltik;finland", 1))
    with pytest.raises(DataError, match="unknown theatre 'baltik'"):
        load_dataset(data_copy)


def test_equipment_spot_checks(data):
    equipment = data.tables["equipment"].query("chosen and status == 'active'").set_index(["iso3", "class"])
    assert equipment.loc[("POL", "mbt"), "value"] == 631  # Mar 2024 inventory
    assert equipment.loc[("DEU", "gbad_long_range"), "value"] == 9  # Patriot units after three went to Ukraine
    counts = data.tables["equipment"].groupby(["iso3", "class", "status"])["chosen"].sum()
    assert (counts == 1).all()


def test_front_line_national_forces(data):
    national = data.tables["national_forces"]
    assert {"EST", "LVA", "LTU", "POL", "FIN"} <= set(national["owner"])
    assert (national["owner"] == national["country"]).all()
    assert set(national["posture"]) <= {"permanent", "rotational", "reserve"}
    # Finland's brigades are wartime (reserve) formations; Poland's are standing
    assert set(national.query("owner == 'FIN'")["posture"]) == {"reserve"}
    assert "permanent" in set(national.query("owner == 'POL'")["posture"])
    # no duplicate of the multinational rows
    assert not set(national["id"]) & set(data.force_elements["id"])
