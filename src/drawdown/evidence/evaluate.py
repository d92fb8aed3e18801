"""Precision and recall of the reader against hand annotations (``tests/evidence/annotations``).

An annotation file names an article (``own/...`` for articles written for the tests, ``seeds/...`` for the five
news articles, whose text is read from the seeds folder and never copied) and lists its claims. A claim is placed
by ``span: [start, end]`` (characters of its sentence) or, for own articles, by an ``anchor`` of its words.

Scoring is per field, as in slot filling: every (claim, field, value) is a fact (each place and each name in an
attribution chain is one fact); a predicted fact is right when a gold claim whose span overlaps it has the same
value. Attribution names match when one contains the other, ignoring case and a leading 'the'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from drawdown.data import Dataset
from drawdown.evidence.claims import Claim

FIELDS = ("action", "actor", "troops", "locations", "unit_type", "modality", "attribution")
META_FIELDS = ("outlet", "date", "title")


@dataclass
class Gold:
    path: Path
    name: str
    meta: dict[str, Any]
    claims: list[dict[str, Any]]
    hints: dict[str, Any] = field(default_factory=dict)


def load_annotations(directory: Path, roots: dict[str, Path | None]) -> list[Gold]:
    """Annotation files with their article paths resolved through ``roots`` (the article path's first part:
    ``own``, ``seeds``, ``heldout``); articles whose folder is absent (the seeds outside this repository) are
    skipped."""
    out = []
    yaml = YAML(typ="safe", pure=True)
    for file in sorted(directory.glob("*.yaml")):
        doc = yaml.load(file.read_text(encoding="utf-8"))
        kind, _, rel = doc["article"].partition("/")
        base = roots.get(kind)
        if base is None or not (base / rel).exists():
            continue
        out.append(Gold(base / rel, file.stem, doc.get("meta") or {}, doc.get("claims") or [], doc.get("hints") or {}))
    return out


def _norm(name: str) -> str:
    name = name.lower().strip()
    return name[4:] if name.startswith("the ") else name


def _facts(claim: dict[str, Any]) -> list[tuple[str, Any]]:
    facts: list[tuple[str, Any]] = []
    for f in FIELDS:
        value = claim.get(f)
        if f in ("locations", "attribution"):
            facts += [(f, v) for v in (value or [])]
        elif value is not None:
            facts.append((f, value))
    return facts


def _same(field_name: str, a: Any, b: Any) -> bool:
    if field_name == "attribution":
        x, y = _norm(str(a)), _norm(str(b))
        return bool(x) and bool(y) and (x in y or y in x)
    return a == b


def _gold_span(gold: Gold, claim: dict[str, Any], text: str) -> tuple[int, int]:
    if "span" in claim:
        return int(claim["span"][0]), int(claim["span"][1])
    anchor = claim["anchor"]
    at = text.find(anchor)
    if at < 0:
        raise ValueError(f"{gold.name}: anchor {anchor!r} not in the article text")
    return at, at + len(anchor)


def predicted(claim: Claim) -> dict[str, Any]:
    return {"action": claim.action, "actor": claim.actor, "troops": claim.troops, "unit_type": claim.unit_type,
            "locations": [p.code for p in claim.places], "modality": claim.modality, "attribution": claim.attribution,
            "span": list(claim.span)}


def score(pairs: list[tuple[Gold, str, list[Claim], dict[str, Any]]]) -> dict[str, Any]:
    """``pairs``: (gold, article text, predicted claims, predicted metadata). Returns counts and ratios per field,
    per metadata field, and the misses and false alarms for inspection."""
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FIELDS}
    meta_counts = {f: {"right": 0, "total": 0} for f in META_FIELDS}
    errors: list[str] = []
    for gold, text, claims, meta in pairs:
        gold_claims = [(g, _gold_span(gold, g, text)) for g in gold.claims]
        pred = [predicted(c) for c in claims]
        used: set[tuple[int, int]] = set()
        for p in pred:
            ps, pe = p["span"]
            for f, value in _facts(p):
                hit = None
                for gi, (g, (gs, ge)) in enumerate(gold_claims):
                    if gs < pe and ps < ge:
                        for fi, (gf, gv) in enumerate(_facts(g)):
                            if gf == f and (gi, fi) not in used and _same(f, value, gv):
                                hit = (gi, fi)
                                break
                    if hit:
                        break
                if hit:
                    used.add(hit)
                    counts[f]["tp"] += 1
                else:
                    counts[f]["fp"] += 1
                    errors.append(f"{gold.name}: extra {f}={value!r} at {ps}-{pe}")
        for gi, (g, _) in enumerate(gold_claims):
            for fi, (f, value) in enumerate(_facts(g)):
                if (gi, fi) not in used:
                    counts[f]["fn"] += 1
                    errors.append(f"{gold.name}: missed {f}={value!r} ({g.get('anchor') or g.get('span')})")
        for f in META_FIELDS:
            if f in gold.meta:
                want, got = gold.meta[f], meta.get(f)
                if isinstance(want, dt.date):
                    want = want.isoformat()
                meta_counts[f]["total"] += 1
                right = (want is None and got is None) or (want is not None and got is not None
                                                           and _norm(str(want)) == _norm(str(got)))
                meta_counts[f]["right"] += right
                if not right:
                    errors.append(f"{gold.name}: metadata {f} {got!r}, annotated {want!r}")
    table = {}
    for f, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
        table[f] = {**c, "precision": p, "recall": r}
    meta_table = {f: {**c, "accuracy": c["right"] / c["total"] if c["total"] else None} for f, c in meta_counts.items()}
    return {"fields": table, "metadata": meta_table, "errors": errors}


def evaluate(golds: list[Gold], data: Dataset) -> dict[str, Any]:
    from drawdown.evidence import extract

    pairs = []
    for gold in golds:
        hints = {k: (dt.date.fromisoformat(str(v)) if k == "date" else v) for k, v in gold.hints.items()}
        result = extract([gold.path], data, **hints)[0]
        pairs.append((gold, result.article.text, result.claims, result.article.meta()))
    return score(pairs)
