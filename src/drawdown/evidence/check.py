"""Claims against the data (agrees, conflicts with value and source, not covered) and against each other
(agreement or contradiction between articles, e.g. a report of a planned exit and a denial of it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import combinations
from typing import Any


from drawdown.data import BASELINE_DATE, Dataset
from drawdown.evidence.claims import Claim

TOLERANCE = 0.15  # a count "about N" agrees with the data within 15 % (the spread of published US totals)
MAX_PAIRS_CLAIMS = 2000  # claims per actor and action compared pairwise
MAX_RELATIONS = 5000  # relations reported at most (a flood of agreements says nothing more)
UP = {"deploy", "alert", "backstop"}
PRESENCE = {"station", "keep"}


@dataclass
class Verdict:
    status: str  # agrees | conflicts | not_covered
    detail: str
    value: float | None = None
    sources: list[str] | None = None
    as_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "value": self.value, "sources": self.sources or [],
                "as_of": self.as_of}


_SITES: dict[str, dict[str, str]] = {}


def _site_countries(data: Dataset) -> dict[str, str]:
    if data.version not in _SITES:
        _SITES[data.version] = data.sites.set_index("id")["country"].to_dict()
    return _SITES[data.version]


def _countries(claim: Claim, data: Dataset) -> set[str]:
    """Every nation a claim's places cover (sites by their country, groups by their members)."""
    groups = data.groups
    sites = _site_countries(data)
    out: set[str] = set()
    for p in claim.places:
        if p.kind == "country":
            out.add(p.code)
        elif p.kind == "site":
            out.add(sites.get(p.code, ""))
        elif p.code == "EUR":
            out |= {"EUR"}
        else:
            out |= set(groups.get(p.code, ()))
    return out - {""}


def _present(claim: Claim, data: Dataset, date: dt.date) -> tuple[float, list[str], str | None, str]:
    """Troops the data has for the claim's actor at its places on ``date``: (count, sources, as of, how)."""
    actor = claim.actor
    sites = set(claim.sites)
    countries = _countries(claim, data)
    if "EUR" in countries or (not sites and not countries):
        totals = data.tables["country_totals"]
        rows = totals[(totals["owner"] == actor) & (totals["country"] == "EUR") & totals["chosen"]]
        if not rows.empty:
            row = rows.iloc[0]
            return float(row["personnel"]), [row["source"]], str(row["as_of"])[:10], "published Europe-wide total"
    forces = data.forces_on(date)
    forces = forces[forces["owner"] == actor]
    plain_countries = {c for c in countries if c != "EUR"}
    if "EUR" not in countries:
        mask = forces["country"].isin(plain_countries) | forces["site"].isin(sites)
        forces = forces[mask]
    if len(plain_countries) == 1 and not sites and "EUR" not in countries:
        totals = data.tables["country_totals"]
        country = next(iter(plain_countries))
        rows = totals[(totals["owner"] == actor) & (totals["country"] == country) & totals["chosen"]]
        if not rows.empty:
            row = rows.iloc[0]
            return float(row["personnel"]), [row["source"]], str(row["as_of"])[:10], "published country total"
    sources = list(dict.fromkeys(forces["source"].dropna().astype(str)))[:4]
    as_of = str(forces["as_of"].max())[:10] if not forces.empty else None
    return float(forces["personnel"].fillna(0).sum()), sources, as_of, "sum of force elements"


def _agrees(value: float, claim: Claim) -> bool:
    v = float(claim.troops or 0)
    q = claim.qualifier or "exact"
    if q == "over":
        return value >= v * (1 - TOLERANCE / 3)
    if q == "up to":
        return value <= v * (1 + TOLERANCE / 3)
    if q == "range" and claim.troops_high:
        return v * (1 - TOLERANCE) <= value <= claim.troops_high * (1 + TOLERANCE)
    return abs(value - v) <= TOLERANCE * max(value, v)


def check_claim(claim: Claim, data: Dataset, date: dt.date | None) -> Verdict:
    on = date or BASELINE_DATE
    when = f"on {on.isoformat()}" + ("" if date else " (article undated: data baseline)")
    nations = set(data.nation_codes)
    if claim.actor not in nations:
        return Verdict("not_covered", f"actor {claim.actor or 'unknown'} is not a nation the data holds forces for")
    if claim.action in UP or claim.action == "shift":
        return Verdict("not_covered", "a movement, alert or commitment: the data records forces present, not orders")
    if not claim.places and claim.troops is None:
        return Verdict("not_covered", "no place or count to compare")
    value, sources, as_of, how = _present(claim, data, on)
    where = claim.location or "Europe"
    if claim.troops is not None and claim.action in PRESENCE:
        if _agrees(value, claim):
            return Verdict("agrees", f"the data has {value:,.0f} {claim.actor} troops in {where} {when} ({how})",
                           value, sources, as_of)
        return Verdict("conflicts", f"the article says {claim.qualifier or ''} {claim.troops:,}; the data has "
                       f"{value:,.0f} {claim.actor} troops in {where} {when} ({how})".replace("  ", " "),
                       value, sources, as_of)
    if value > 0:
        return Verdict("agrees", f"{claim.actor} forces are in {where} in the data {when}: {value:,.0f} troops ({how})",
                       value, sources, as_of)
    return Verdict("conflicts", f"the data has no {claim.actor} forces in {where} {when}", 0.0, sources, as_of)



# ------------------------------------------------------------------------------------------------ claim vs claim

def _overlap(a: Claim, b: Claim, data: Dataset) -> bool:
    ca, cb = _countries(a, data), _countries(b, data)
    if "EUR" in ca or "EUR" in cb:
        europe = set(data.groups.get("nato_europe", frozenset())) | {"EUR", "XKX"}
        return bool(ca & europe) and bool(cb & europe)
    return bool(ca & cb) or bool(set(a.sites) & set(b.sites))


def compare(claims: list[Claim], data: Dataset) -> list[dict[str, Any]]:
    """Agreements and contradictions between claims.

    * contradicts: a claim and a denial of the same action by the same actor at overlapping places (a denial that names no place denies it everywhere); within one article
      too, since articles often carry both the report and the denial;
    * contradicts / agrees: two counts of the same actor's troops in the same nation, 15 % apart or within;
    * agrees: the same action by the same actor at overlapping places in two different articles.
    """
    relations: list[dict[str, Any]] = []
    buckets: dict[tuple[str, str], list[Claim]] = {}
    for claim in claims:  # only the same actor and action (or two presences) can relate: pair within buckets
        if claim.actor is not None:
            kind = "presence" if claim.action in PRESENCE else claim.action
            buckets.setdefault((claim.actor, kind), []).append(claim)
    pairs = (pair for bucket in buckets.values() for pair in combinations(bucket[:MAX_PAIRS_CLAIMS], 2))
    for a, b in pairs:
        if len(relations) >= MAX_RELATIONS:
            break
        same_article = a.article == b.article
        if a.action != b.action and not (a.action in PRESENCE and b.action in PRESENCE):
            continue
        denial_a, denial_b = a.modality == "denial", b.modality == "denial"
        kind = reason = None
        if denial_a != denial_b:
            denied, made = (a, b) if denial_a else (b, a)
            if made.places and (denied.places and not _overlap(a, b, data)):
                continue
            if not made.places and not denied.places:
                continue
            kind = "contradicts"
            reason = (f"{made.modality} of {made.action} by {made.actor} ({made.location or 'no place given'}) "
                      f"against a denial ({denied.location or 'anywhere'})")
        elif same_article or not (a.places and b.places and _overlap(a, b, data)):
            continue
        elif a.action in PRESENCE and b.action in PRESENCE and a.troops and b.troops:
            if not (a.countries and a.countries == b.countries):
                continue
            close = abs(a.troops - b.troops) <= TOLERANCE * max(a.troops, b.troops)
            kind = "agrees" if close else "contradicts"
            reason = f"{a.actor} troops in {a.location}: {a.troops:,} and {b.troops:,}"
        elif a.action == b.action:
            kind = "agrees"
            reason = (f"both {'deny' if denial_a else 'report'} {a.action} by {a.actor} "
                      f"({a.location} / {b.location})")
        else:
            continue
        relations.append({"kind": kind, "reason": reason, "same_article": same_article,
                          "a": {"article": a.article, "claim": a.index, "span": list(a.span)},
                          "b": {"article": b.article, "claim": b.index, "span": list(b.span)}})
    return relations
