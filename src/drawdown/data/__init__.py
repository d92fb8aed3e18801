"""Sourced data tables and their loader.

The catalogue (``catalogue.yaml``) declares every table and column: type, unit, whether it is required,
allowed values, and which table a column refers to. :func:`load_dataset` reads the CSV files the catalogue
names, converts and checks every cell against that declaration, and returns a :class:`Dataset`. Nothing
else in drawdown reads these files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML

from drawdown.errors import DataError, Location, Problem, did_you_mean

__all__ = ["Dataset", "load_dataset", "default_data_dir", "BASELINE_DATE"]

#: The date the bundled force tables describe when no other date is asked for.
BASELINE_DATE = dt.date(2025, 11, 1)
#: Theatres an adversary formation can be committed to (the campaign engine's theatres).
THEATRES = ("baltic", "poland", "finland", "black_sea")
#: Tolerance for unit-level sums against published country totals (fraction of the total).
RECONCILE_TOLERANCE = 0.05

_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


def default_data_dir() -> Path:
    """The data directory in use: ``$DRAWDOWN_DATA`` if set, else the tables bundled with the package."""
    env = os.environ.get("DRAWDOWN_DATA")
    if env:
        return Path(env)
    return Path(str(resources.files("drawdown.data")))


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    unit: str | None = None
    description: str = ""
    enum: tuple[str, ...] | None = None
    references: str | None = None
    min: float | None = None
    max: float | None = None
    unique: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    file: str
    description: str
    columns: dict[str, ColumnSpec]
    key: str | None = None
    chosen_key: tuple[str, ...] = ()
    chosen_rule: str = "exactly_one"


def _read_catalogue(path: Path) -> tuple[str, dict[str, TableSpec]]:
    raw = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    tables: dict[str, TableSpec] = {}
    allowed = {f.name for f in ColumnSpec.__dataclass_fields__.values()} - {"name"}
    for name, spec in raw["tables"].items():
        for col, c in spec["columns"].items():
            unknown = set(c) - allowed
            if unknown:
                raise DataError.single(f"table {name}, column {col}: unknown keys {sorted(unknown)} (quote "
                                       "descriptions that contain commas)", Location(str(path)))
        columns = {
            col: ColumnSpec(
                name=col,
                type=c["type"],
                required=bool(c.get("required", False)),
                unit=c.get("unit"),
                description=c.get("description", ""),
                enum=tuple(c["enum"]) if c.get("enum") else None,
                references=c.get("references"),
                min=c.get("min"),
                max=c.get("max"),
                unique=bool(c.get("unique", False)),
            )
            for col, c in spec["columns"].items()
        }
        chosen = spec.get("chosen") or {}
        tables[name] = TableSpec(name, spec["file"], spec.get("description", ""), columns, spec.get("key"),
                                 tuple(chosen.get("key", ())), chosen.get("rule", "exactly_one"))
    return str(raw["version"]), tables


def _convert(value: str, spec: ColumnSpec) -> Any:
    """Convert one CSV cell to the declared type; raise ValueError with a plain message."""
    if spec.type == "str":
        return value
    if spec.type == "int":
        number = float(value.replace(",", "").replace("_", ""))
        if number != int(number):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(number)
    if spec.type == "float":
        return float(value.replace(",", "").replace("_", ""))
    if spec.type == "bool":
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if spec.type == "date":
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"unknown column type {spec.type!r} in the catalogue")


@dataclass
class Dataset:
    """All bundled tables, typed and validated, with lookups the engines need."""

    directory: Path
    version: str
    tables: dict[str, pd.DataFrame]
    specs: dict[str, TableSpec]
    problems: list[Problem] = field(default_factory=list)

    # ---- tables -------------------------------------------------------------------------------
    @property
    def sources(self) -> pd.DataFrame:
        return self.tables["sources"]

    @property
    def nations(self) -> pd.DataFrame:
        return self.tables["nations"]

    @property
    def sites(self) -> pd.DataFrame:
        return self.tables["sites"]

    @property
    def unit_types(self) -> pd.DataFrame:
        return self.tables["unit_types"]

    @property
    def parameters(self) -> pd.DataFrame:
        return self.tables["parameters"]

    @cached_property
    def force_elements(self) -> pd.DataFrame:
        """US forces and multinational deployments in one table, with the unit type's category joined."""
        frames = []
        for table in ("us_forces", "deployments"):
            frame = self.tables[table].copy()
            frame["table"] = table
            frames.append(frame)
        forces = pd.concat(frames, ignore_index=True)
        types = self.unit_types[["id", "category", "personnel", "power", "power_unit"]].rename(
            columns={"id": "unit_type", "personnel": "type_personnel", "power": "type_power"}
        )
        return forces.merge(types, on="unit_type", how="left")

    def forces_on(self, date: dt.date) -> pd.DataFrame:
        """Force elements present on ``date`` (valid_from ≤ date ≤ valid_to, empty bounds open)."""
        forces = self.force_elements
        start_ok = forces["valid_from"].isna() | (forces["valid_from"] <= date)
        end_ok = forces["valid_to"].isna() | (forces["valid_to"] >= date)
        return forces[start_ok & end_ok].reset_index(drop=True)

    def adversary_on(self, date: dt.date, theatre: str | None = None) -> pd.DataFrame:
        """Adversary rows valid on ``date`` (optionally only those that could be committed to ``theatre``),
        with the unit type's category, strength and weight joined."""
        forces = self.tables["adversary_forces"]
        start_ok = forces["valid_from"].isna() | (forces["valid_from"] <= date)
        end_ok = forces["valid_to"].isna() | (forces["valid_to"] >= date)
        rows = forces[start_ok & end_ok]
        if theatre is not None:
            rows = rows[rows["theatres"].str.split(";").apply(lambda parts: theatre in parts)]
        types = self.unit_types[["id", "category", "personnel", "power", "power_unit"]].rename(
            columns={"id": "unit_type", "personnel": "type_personnel", "power": "type_power"})
        return rows.merge(types, on="unit_type", how="left").reset_index(drop=True)

    # ---- lookups -------------------------------------------------------------------------------
    @cached_property
    def groups(self) -> dict[str, frozenset[str]]:
        table = self.tables["groups"]
        return {g: frozenset(rows["iso3"]) for g, rows in table.groupby("group")}

    @cached_property
    def nation_codes(self) -> frozenset[str]:
        return frozenset(self.nations["iso3"])

    @cached_property
    def site_ids(self) -> frozenset[str]:
        return frozenset(self.sites["id"])

    @cached_property
    def unit_type_ids(self) -> frozenset[str]:
        return frozenset(self.unit_types["id"])

    @cached_property
    def _accession(self) -> dict[str, int]:
        joined = self.nations.dropna(subset=["nato_joined"])
        return {str(c): int(y) for c, y in zip(joined["iso3"], joined["nato_joined"])}

    def members_joined_after(self, year: int) -> frozenset[str]:
        return frozenset(c for c, joined in self._accession.items() if joined > year)

    @cached_property
    def _primary_sites(self) -> dict[str, str]:
        primary = self.sites[self.sites["primary"]]
        out: dict[str, str] = {}
        for country, site in zip(primary["country"], primary["id"]):
            out.setdefault(str(country), str(site))
        return out

    def primary_site(self, country: str) -> str | None:
        """The default site for forces moved into ``country`` without a named site."""
        return self._primary_sites.get(country)

    @cached_property
    def _site_countries(self) -> dict[str, str]:
        return {str(s): str(c) for s, c in zip(self.sites["id"], self.sites["country"])}

    def site_country(self, site: str) -> str:
        return self._site_countries[site]

    def conflicts(self) -> pd.DataFrame:
        """Rows of every table with a ``chosen`` column whose key has more than one published value, chosen
        first: what ``drawdown data sources --conflicts`` shows."""
        frames = []
        for name, spec in self.specs.items():
            if not spec.chosen_key:
                continue
            frame = self.tables[name]
            value = next(c for c in ("personnel", "value", "acquisition_usd_m", "unit_usd_m", "units_per_year",
                                     "c17_loads") if c in frame)
            keys = list(spec.chosen_key)
            multi = frame.groupby(keys).filter(lambda rows: rows[value].nunique() > 1)
            if multi.empty:
                continue
            multi = multi.sort_values([*keys, "chosen"], ascending=[True] * len(keys) + [False])
            multi = multi.rename(columns={value: "value"})
            multi.insert(0, "table", name)
            multi.insert(1, "key", multi[keys].astype(str).agg("/".join, axis=1))
            frames.append(multi[["table", "key", "value", "chosen", "source", "as_of", "notes"]])
        if not frames:
            return pd.DataFrame(columns=["table", "key", "value", "chosen", "source", "as_of", "notes"])
        return pd.concat(frames, ignore_index=True)

    def coverage(self) -> dict[str, pd.DataFrame]:
        """What the data holds and what rests on assumptions: equipment (chosen, in service) by nation and
        class, and per table the share of rows whose source is a declared assumption."""
        equipment = self.tables["equipment"]
        active = equipment[equipment["chosen"].astype(bool) & (equipment["status"] == "active")]
        grid = active.pivot_table(index="iso3", columns="class", values="value", aggfunc="first")
        classes = list(self.specs["equipment"].columns["class"].enum or [])
        members = sorted(self.groups.get("nato", frozenset()) | {"UKR", "RUS", "BLR"})
        grid = grid.reindex(index=members, columns=classes)
        kinds = self.sources.set_index("id")["kind"]
        rows = []
        for name, spec in self.specs.items():
            frame = self.tables[name]
            column = "source" if "source" in frame else ("membership_source" if "membership_source" in frame else None)
            if column is None or frame.empty:
                continue
            assumed = frame[column].map(kinds).eq("assumption").sum()
            rows.append({"table": name, "rows": len(frame), "assumption_rows": int(assumed),
                         "assumption_share": round(float(assumed) / len(frame), 3)})
        return {"equipment": grid, "assumptions": pd.DataFrame(rows)}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise DataError.single(
                f"unknown table '{name}'", suggestion=did_you_mean(name, self.tables) or f"tables: {', '.join(self.tables)}"
            )
        return self.tables[name]


def _load_table(directory: Path, spec: TableSpec, problems: list[Problem]) -> pd.DataFrame:
    path = directory / "tables" / spec.file
    if not path.exists():
        problems.append(Problem(f"table file is missing (catalogue table '{spec.name}')", Location(str(path))))
        return pd.DataFrame({c: pd.Series(dtype=object) for c in spec.columns})
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    unknown = [c for c in raw.columns if c not in spec.columns]
    for col in unknown:
        hint = did_you_mean(col, spec.columns)
        problems.append(Problem(f"column '{col}' is not declared in the catalogue", Location(str(path), 1), suggestion=hint))
    for col, cspec in spec.columns.items():
        if col not in raw.columns and cspec.required:
            problems.append(Problem(f"required column '{col}' is missing", Location(str(path), 1)))
    converted: dict[str, list[Any]] = {col: [] for col in spec.columns}
    for row_number, row in enumerate(raw.to_dict("records")):
        line = row_number + 2  # header is line 1
        for col, cspec in spec.columns.items():
            text = str(row.get(col, "")).strip()
            if text == "":
                if cspec.required:
                    problems.append(Problem("required value is empty", Location(str(path), line), field=col))
                converted[col].append(None)
                continue
            try:
                value = _convert(text, cspec)
            except ValueError as exc:
                problems.append(Problem(str(exc), Location(str(path), line), field=col))
                converted[col].append(None)
                continue
            if cspec.enum and value not in cspec.enum:
                problems.append(
                    Problem(
                        f"'{value}' is not one of {', '.join(cspec.enum)}",
                        Location(str(path), line),
                        field=col,
                        suggestion=did_you_mean(str(value), cspec.enum),
                    )
                )
            if cspec.min is not None and isinstance(value, (int, float)) and value < cspec.min:
                problems.append(Problem(f"{value} is below the minimum {cspec.min}", Location(str(path), line), field=col))
            if cspec.max is not None and isinstance(value, (int, float)) and value > cspec.max:
                problems.append(Problem(f"{value} is above the maximum {cspec.max}", Location(str(path), line), field=col))
            converted[col].append(value)
    frame = pd.DataFrame(converted)
    for col, cspec in spec.columns.items():
        if cspec.type == "int":
            frame[col] = frame[col].astype("Int64")
        elif cspec.type == "float":
            frame[col] = frame[col].astype("Float64")
        if cspec.unique:
            duplicated = frame[col].dropna().duplicated(keep="first")
            for index in duplicated[duplicated].index:
                problems.append(
                    Problem(f"duplicate id '{frame.at[index, col]}'", Location(str(path), int(index) + 2), field=col)
                )
    frame.attrs["path"] = str(path)
    return frame


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def _line(frame: pd.DataFrame, index: int) -> Location:
    return Location(frame.attrs.get("path", "?"), int(index) + 2)


def _check_references(tables: dict[str, pd.DataFrame], specs: dict[str, TableSpec], problems: list[Problem]) -> None:
    for name, spec in specs.items():
        frame = tables[name]
        for col, cspec in spec.columns.items():
            if not cspec.references or col not in frame:
                continue
            target_table, target_col = cspec.references.split(".")
            valid = set(tables[target_table][target_col].dropna())
            for index, value in frame[col].items():
                if value is None or pd.isna(value) or value in valid:
                    continue
                problems.append(
                    Problem(
                        f"'{value}' does not resolve in {target_table}.{target_col}",
                        _line(frame, index),
                        field=col,
                        suggestion=did_you_mean(str(value), valid),
                    )
                )


def _check_rules(ds: Dataset, problems: list[Problem]) -> None:
    """Cross-table rules that the catalogue cannot express."""
    sources = ds.sources
    for index, row in sources.iterrows():
        if row["kind"] != "assumption" and not row["url"]:
            problems.append(Problem("a non-assumption source needs a url or document reference", _line(sources, index), "url"))
        if row["kind"] == "assumption" and not row["notes"]:
            problems.append(Problem("an assumption needs its reasoning in notes", _line(sources, index), "notes"))

    segments, axes = ds.tables.get("axis_segments"), ds.tables.get("axes")
    if segments is not None and axes is not None:  # an axis's segments add up to its length
        totals = segments.groupby("axis")["length_km"].sum()
        for index, row in axes.iterrows():
            if row["id"] in totals.index and abs(float(totals[row["id"]]) - float(row["length_km"])) > 1.0:
                problems.append(Problem(
                    f"axis {row['id']} is {row['length_km']:g} km but its segments add up to "
                    f"{float(totals[row['id']]):g} km", _line(axes, index), "length_km",
                    suggestion="make length_km the sum of the axis_segments rows"))

    for name, spec in ds.specs.items():  # every dated table
        if "valid_from" not in spec.columns or "valid_to" not in spec.columns:
            continue
        frame = ds.tables[name]
        for index, row in frame.iterrows():
            if row["valid_from"] and row["valid_to"] and row["valid_to"] < row["valid_from"]:
                problems.append(Problem("valid_to is before valid_from", _line(frame, index), "valid_to"))

    site_country = dict(zip(ds.sites["id"], ds.sites["country"]))
    previous = ds.force_elements.set_index("id")
    for table in ("us_forces", "deployments", "national_forces"):
        frame = ds.tables[table]
        for index, row in frame.iterrows():
            expected = site_country.get(row["site"])
            if expected and expected != row["country"]:
                problems.append(
                    Problem(
                        f"site '{row['site']}' is in {expected}, not {row['country']}", _line(frame, index), "country"
                    )
                )
            if _present(row.get("replaces")):
                if row["replaces"] not in previous.index:
                    problems.append(Problem(f"replaces unknown element '{row['replaces']}'", _line(frame, index),
                                            "replaces", did_you_mean(row["replaces"], previous.index)))
                else:
                    before = previous.loc[row["replaces"]]
                    ends, starts = before["valid_to"], row["valid_from"]
                    if ends is None or starts is None or pd.isna(ends) or (starts - ends).days != 1:
                        problems.append(Problem(
                            f"replaces '{row['replaces']}', which must end the day before this row starts "
                            f"(it ends {ends}, this starts {starts})", _line(frame, index), "replaces"))

    adversary = ds.tables["adversary_forces"]
    for index, row in adversary.iterrows():
        for theatre in str(row["theatres"]).split(";"):
            if theatre not in THEATRES:
                problems.append(Problem(f"unknown theatre '{theatre}'", _line(adversary, index), "theatres",
                                        did_you_mean(theatre, THEATRES) or f"theatres: {', '.join(THEATRES)}"))
    for name in ("equipment", "adversary_estimates"):
        if name not in ds.tables:
            continue
        frame = ds.tables[name]
        for index, row in frame.iterrows():
            value, low, high = row.get("value"), row.get("low"), row.get("high")
            if not pd.isna(low) and not pd.isna(high) and low > high:
                problems.append(Problem(f"low {low} is above high {high}", _line(frame, index), "low"))
            if not pd.isna(value) and ((not pd.isna(low) and value < low) or (not pd.isna(high) and value > high)):
                problems.append(Problem(f"value {value} is outside its range [{low}, {high}]", _line(frame, index),
                                        "value"))

    primaries = ds.sites[ds.sites["primary"].fillna(False).astype(bool)]
    for country, rows in primaries.groupby("country"):
        if len(rows) > 1:
            problems.append(
                Problem(
                    f"{country} has {len(rows)} primary sites ({', '.join(rows['id'])}); exactly one is allowed",
                    _line(ds.sites, rows.index[1]),
                    "primary",
                )
            )

    groups = ds.groups
    if "post_1990" in groups:
        expected = ds.members_joined_after(1990)
        if groups["post_1990"] != expected:
            extra = sorted(groups["post_1990"] - expected)
            missing = sorted(expected - groups["post_1990"])
            problems.append(
                Problem(
                    f"group post_1990 disagrees with accession years (extra: {extra}, missing: {missing})",
                    Location(ds.tables["groups"].attrs.get("path", "groups.csv")),
                )
            )

    for name, spec in ds.specs.items():
        if not spec.chosen_key:
            continue
        frame = ds.tables[name]
        for key, rows in frame.groupby(list(spec.chosen_key)):
            chosen = int(rows["chosen"].fillna(False).astype(bool).sum())
            wanted = "exactly one" if spec.chosen_rule == "exactly_one" else "at most one"
            if chosen > 1 or (spec.chosen_rule == "exactly_one" and chosen != 1):
                label = "/".join(map(str, key if isinstance(key, tuple) else (key,)))
                problems.append(Problem(f"{label}: {chosen} rows marked chosen; {wanted} must be",
                                        _line(frame, rows.index[0]), "chosen"))
    problems.extend(reconcile(ds))


def reconcile(ds: Dataset, date: dt.date = BASELINE_DATE, tolerance: float = RECONCILE_TOLERANCE) -> list[Problem]:
    """Unit-level US sums by country against the chosen published country totals, within ``tolerance``."""
    problems: list[Problem] = []
    totals = ds.tables["country_totals"]
    chosen = totals[totals["chosen"].fillna(False).astype(bool) & (totals["owner"] == "USA")]
    present = ds.forces_on(date)
    present = present[present["owner"] == "USA"]
    by_country = present.groupby("country")["personnel"].sum()
    for index, row in chosen.iterrows():
        if row["country"] == "EUR":
            continue
        units = int(by_country.get(row["country"], 0))
        published = int(row["personnel"])
        if published == 0 and units == 0:
            continue
        if abs(units - published) > tolerance * max(published, 1):
            problems.append(
                Problem(
                    f"US elements in {row['country']} on {date} sum to {units:,}, published total is {published:,} "
                    f"(tolerance {tolerance:.0%}); add or correct an 'other / support' element",
                    _line(totals, index),
                    "personnel",
                )
            )
    return problems


def data_fingerprint(directory: Path, specs: Iterable[TableSpec]) -> str:
    digest = hashlib.sha256()
    for spec in sorted(specs, key=lambda s: s.name):
        path = directory / "tables" / spec.file
        if path.exists():
            digest.update(spec.file.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def export_tables(ds: Dataset, directory: str | Path, fmt: str = "parquet", *,
                  as_of: dt.date | None = None) -> list[Path]:
    """Write every table to ``directory`` as Parquet (typed, via DuckDB) or CSV, plus ``manifest.json``."""
    import json

    import duckdb

    if fmt not in ("parquet", "csv"):
        raise DataError.single(f"unknown format '{fmt}'", suggestion="use parquet or csv")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    present = set(ds.forces_on(as_of)["id"]) if as_of else None
    con = duckdb.connect() if fmt == "parquet" else None
    for name in ds.specs:
        frame = ds.tables[name]
        if present is not None and name in ("us_forces", "deployments"):
            frame = frame[frame["id"].isin(present)]
        target = directory / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(target, index=False)
        else:
            con.register("frame", frame)
            con.execute(f"COPY frame TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT PARQUET)")
            con.unregister("frame")
        written.append(target)
    if con is not None:
        con.close()
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({"data_version": ds.version, "as_of": as_of.isoformat() if as_of else None,
                                    "tables": {n: len(ds.tables[n]) for n in ds.specs}}, indent=2))
    written.append(manifest)
    return written


_CACHE: dict[tuple[str, float], Dataset] = {}


def load_dataset(directory: str | Path | None = None, *, strict: bool = True) -> Dataset:
    """Load and validate the data tables in ``directory`` (default: bundled).

    With ``strict`` (the default) any problem raises :class:`DataError` listing every problem with its file
    and line; with ``strict=False`` the dataset is returned with ``problems`` filled in (used by
    ``drawdown data validate``).
    """
    directory = Path(directory) if directory else default_data_dir()
    catalogue_path = directory / "catalogue.yaml"
    if not catalogue_path.exists():
        raise DataError.single("no catalogue.yaml in the data directory", Location(str(directory)))
    stamp = max((p.stat().st_mtime for p in directory.rglob("*") if p.is_file()), default=0.0)
    cache_key = (str(directory.resolve()), stamp)
    if cache_key in _CACHE:
        dataset = _CACHE[cache_key]
    else:
        version, specs = _read_catalogue(catalogue_path)
        problems: list[Problem] = []
        tables = {name: _load_table(directory, spec, problems) for name, spec in specs.items()}
        version = f"{version}+{data_fingerprint(directory, specs.values())}"
        dataset = Dataset(directory, version, tables, specs, problems)
        if not problems:  # cross-table rules only make sense on well-typed tables
            _check_references(tables, specs, problems)
            if not problems:
                _check_rules(dataset, problems)
        _CACHE[cache_key] = dataset
    if strict and dataset.problems:
        raise DataError(list(dataset.problems))
    return dataset
