"""Evidence from the news: articles in, attributed posture claims out, checked against the data and against
each other, and drafted into a runnable scenario.

    from drawdown.evidence import extract, check, to_scenario
    results = extract(["article.txt"])          # [(Article, [Claim, ...])]
    report = check(results)                     # verdicts per claim, relations between claims
    yaml_text = to_scenario(results)            # validates and runs

Rule-based: spaCy's blank English pipeline with gazetteers from drawdown's data; no model weights, no network
(URLs are fetched only when the user passes one). See docs/evidence.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drawdown.data import Dataset, load_dataset
from drawdown.evidence.check import check_claim, compare
from drawdown.evidence.claims import ACTIONS, MODALITIES, Claim, Place, Reader
from drawdown.evidence.draft import draft_scenario
from drawdown.evidence.source import Article, EvidenceError, article_from_text, article_paths, read_article

__all__ = ["ACTIONS", "MODALITIES", "Article", "Claim", "Place", "Reader", "Result", "EvidenceError", "extract",
           "extract_text", "check", "to_scenario", "document", "reader_for"]

_READERS: dict[str, Reader] = {}


@dataclass
class Result:
    article: Article
    claims: list[Claim]

    def to_dict(self) -> dict[str, Any]:
        meta = self.article.meta()
        return {**meta, "claims": [c.to_dict() for c in self.claims]}


def reader_for(data: Dataset) -> Reader:
    """One reader per dataset version (building the gazetteer takes a fraction of a second)."""
    if data.version not in _READERS:
        _READERS[data.version] = Reader(data)
    return _READERS[data.version]


def extract(targets: Iterable[str | Path], data: Dataset | None = None, *, outlet: str | None = None,
            date: dt.date | None = None, progress: Callable[[str], None] | None = None) -> list[Result]:
    """Read files, folders or URLs and extract their claims. ``outlet``/``date`` override what the texts say."""
    data = data or load_dataset()
    reader = reader_for(data)
    paths = [p for target in targets for p in article_paths(target)]
    results = []
    for path in paths:
        article = read_article(path, outlet=outlet, date=date)
        results.append(Result(article, reader.read(article)))
        if progress:
            progress(path)
    return results


def extract_text(text: str, data: Dataset | None = None, *, name: str = "<text>", **meta: Any) -> Result:
    data = data or load_dataset()
    article = article_from_text(text, name, **meta)
    return Result(article, reader_for(data).read(article))


def check(results: list[Result], data: Dataset | None = None) -> dict[str, Any]:
    """Each claim against the data, and the claims against each other."""
    data = data or load_dataset()
    verdicts = []
    for r in results:
        for c in r.claims:
            verdicts.append({"article": r.article.id, "path": r.article.path, "claim": c.index,
                             **check_claim(c, data, r.article.date).to_dict()})
    relations = compare([c for r in results for c in r.claims], data)
    paths = {r.article.id: r.article.path for r in results}
    for rel in relations:
        rel["a"]["path"], rel["b"]["path"] = paths[rel["a"]["article"]], paths[rel["b"]["article"]]
    return {"checks": verdicts, "relations": relations}


def to_scenario(results: list[Result], data: Dataset | None = None, *, name: str | None = None,
                today: dt.date | None = None) -> str:
    data = data or load_dataset()
    return draft_scenario([(r.article, r.claims) for r in results], data, name=name, today=today)


def document(results: list[Result], checked: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of ``drawdown evidence extract --json`` (and ``check --json``)."""
    out: dict[str, Any] = {"articles": [r.to_dict() for r in results]}
    if checked is not None:
        by_claim = {(v["article"], v["claim"]): v for v in checked["checks"]}
        for art in out["articles"]:
            for claim in art["claims"]:
                v = by_claim.get((art["id"], claim["index"]))
                if v:
                    claim["check"] = {k: v[k] for k in ("status", "detail", "value", "sources", "as_of")}
        out["relations"] = checked["relations"]
    return out
