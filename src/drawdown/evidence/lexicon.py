"""The reader's vocabulary: the rules in ``lexicon.yaml`` plus gazetteers built from drawdown's own data
(nations, sites, groups, unit types, force elements, officials). Codes in the lexicon are checked against the data
so that a renamed site or group fails loudly, not silently."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from drawdown.data import Dataset
from drawdown.errors import DataError, Location

LEXICON = Path(__file__).with_name("lexicon.yaml")


@cache
def load_lexicon() -> dict[str, Any]:
    with LEXICON.open(encoding="utf-8") as handle:
        return YAML(typ="safe", pure=True).load(handle)


@dataclass(frozen=True)
class Name:
    """One surface form and what it stands for."""

    text: str
    label: str  # NATION, ACTOR, ORG, REGION, MISSION, SITE, UNIT, ELEMENT, PERSON, OUTLET, NOTPLACE
    code: str


@dataclass
class Gazetteer:
    names: list[Name] = field(default_factory=list)
    nation_names: dict[str, str] = field(default_factory=dict)  # ISO3 -> display name
    site_country: dict[str, str] = field(default_factory=dict)
    site_names: dict[str, str] = field(default_factory=dict)
    element_unit: dict[str, str] = field(default_factory=dict)
    element_owner: dict[str, str] = field(default_factory=dict)
    site_owners: dict[str, set[str]] = field(default_factory=dict)
    site_elements: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unit_category: dict[str, str] = field(default_factory=dict)
    us_unit_types: set[str] = field(default_factory=set)
    unit_home: dict[str, str] = field(default_factory=dict)
    person_speaks_for: dict[str, str] = field(default_factory=dict)
    person_names: dict[str, str] = field(default_factory=dict)
    group_members: dict[str, set[str]] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, label: str, code: str) -> None:
        text = " ".join(str(text).split())
        if len(text) >= 2:
            self.names.append(Name(text, label, code))
            plain = _ascii(text)
            if plain != text:
                self.names.append(Name(plain, label, code))

    def display(self, code: str) -> str:
        return (self.nation_names.get(code) or self.site_names.get(code) or self.region_names.get(code)
                or code)


_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Đ": "D", "đ": "d",
                       "Œ": "OE", "œ": "oe", "ı": "i"})


def _ascii(text: str) -> str:
    """'Łask' -> 'Lask', 'Grafenwöhr' -> 'Grafenwohr'; never drops a letter ('Łask' must not become 'ask')."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return plain if plain.isascii() else text


def _site_aliases(name: str) -> list[str]:
    """'Ramstein Air Base' -> ['Ramstein Air Base', 'Ramstein']; 'Vicenza (Caserma Ederle and Del Din)' -> also
    'Vicenza', 'Caserma Ederle'; 'RAF Lakenheath' -> also 'Lakenheath'."""
    out = [name]
    base = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
    inner = re.findall(r"\((.*?)\)", name)
    out.append(base)
    for part in inner:
        out += [p.strip() for p in re.split(r" and |;|,", part) if len(p.strip().split()) <= 3]
    short = re.sub(r"\b(Air Base|Air Station|Naval Station|Naval Support Activity|Naval Support Facility|Naval Air "
                   r"Station|training area|Training Area|radar site|base|Field|airport|Port of|RAF|Camp)\b", "",
                   base).strip(" /-")
    if short and short != base:
        out.append(short)
    for piece in re.split(r"\s*/\s*", short):
        out.append(piece)
    return [o for o in dict.fromkeys(o.strip() for o in out) if o and len(o) >= 3]


def build_gazetteer(data: Dataset, lexicon: dict[str, Any] | None = None) -> Gazetteer:
    lex = lexicon or load_lexicon()
    g = Gazetteer()
    nations = data.tables["nations"]
    known_nations = set(nations["iso3"])
    for row in nations.itertuples():
        g.nation_names[row.iso3] = row.name
        g.add(row.name, "NATION", row.iso3)
    problems = []
    for iso3, entry in lex.get("nations", {}).items():
        if iso3 not in known_nations:
            problems.append(f"nations: {iso3} is not in nations.csv")
            continue
        for text in entry.get("names", []):
            g.add(text, "NATION", iso3)
        for text in entry.get("actor_only", []):
            g.add(text, "ACTOR", iso3)
    for code, texts in lex.get("organisations", {}).items():
        for text in texts:
            g.add(text, "ORG", code)
    groups = data.tables["groups"]
    for name, members in groups.groupby("group"):
        g.group_members[str(name)] = set(members["iso3"])
    g.group_members["EUR"] = set(known_nations) - {"USA", "CAN", "RUS", "BLR", "ARM"}
    for code, texts in lex.get("regions", {}).items():
        if code != "EUR" and code not in g.group_members:
            problems.append(f"regions: {code} is not a group in groups.csv")
            continue
        g.region_names[code] = texts[0]
        for text in texts:
            g.add(text, "REGION", code)
    g.region_names["EUR"] = "Europe"
    for iso3, texts in lex.get("missions", {}).items():
        for text in texts:
            g.add(text, "MISSION", iso3)
    for text in lex.get("not_places", []):
        g.add(text, "NOTPLACE", text)
    sites = data.tables["sites"]
    for row in sites.itertuples():
        g.site_country[row.id] = row.country
        g.site_names[row.id] = row.name
        for alias in _site_aliases(row.name):
            if alias in g.nation_names.values():
                continue
            g.add(alias, "SITE", row.id)
    unit_types = data.tables["unit_types"]
    known_units = set(unit_types["id"])
    for code, texts in lex.get("units", {}).items():
        if code not in known_units:
            problems.append(f"units: {code} is not in unit_types.csv")
            continue
        for text in texts:
            g.add(text, "UNIT", code)
    for row in unit_types.itertuples():
        g.unit_category[row.id] = row.category
        if "(US)" in str(row.name):
            g.us_unit_types.add(row.id)
            g.unit_home[row.id] = "USA"
        elif "(European)" in str(row.name):
            g.unit_home[row.id] = "EUROPE"
    for table in ("us_forces", "deployments"):
        frame = data.tables[table]
        for row in frame.itertuples():
            g.element_unit[row.id] = row.unit_type
            g.element_owner[row.id] = row.owner
            if isinstance(row.site, str) and row.site:
                g.site_owners.setdefault(row.site, set()).add(row.owner)
                g.site_elements.setdefault(row.site, []).append((row.owner, row.unit_type))
            name = re.sub(r"\s*\(.*?\)\s*", " ", str(row.name)).strip()
            if re.match(r"^\d+(st|nd|rd|th) ", name):  # only numbered units: '52nd Fighter Wing', '2nd Cavalry Regiment'
                g.add(name.split(",")[0], "ELEMENT", row.id)
    if "officials" in data.tables:
        officials = data.tables["officials"]
        for row in officials.itertuples():
            g.person_speaks_for[row.id] = row.speaks_for
            g.person_names[row.id] = row.name
            g.add(row.name, "PERSON", row.id)
            aliases = row.aliases if isinstance(row.aliases, str) else ""
            for alias in aliases.split(";"):
                if alias.strip():
                    g.add(alias.strip(), "PERSON", row.id)
    for text in lex.get("outlets", []):
        g.add(text, "OUTLET", text)
    if problems:
        raise DataError.single("; ".join(problems), Location(str(LEXICON)),
                               suggestion="the lexicon names codes that the data does not have")
    return g

