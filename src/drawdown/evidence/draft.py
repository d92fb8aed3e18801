"""A runnable scenario drafted from claims: one action per claim that carries enough to act on, each with a
comment pointing to its article and character span. What the articles do not say (dates, unit types) is filled
with stated defaults, and claims that cannot become an action are listed as comments with the reason.

The draft is compiled against the data before it is returned; an action the compiler refuses is commented out
with the compiler's message, so the file always validates and runs."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from drawdown.data import Dataset
from drawdown.errors import DrawdownError
from drawdown.evidence.claims import Claim
from drawdown.evidence.source import Article, plausible

DEFAULT_YEARS = 2  # a withdrawal or deployment with no date in the article is drafted over two years
HORIZON_YEARS = 4
CAPABILITY_WORDS = [("missile defen", "air_missile_defence"), ("air defen", "air_missile_defence"),
                    ("from the air", "air"), ("air power", "air"), ("air support", "air"), ("air cover", "air"),
                    ("intelligence", "isr"), ("surveillance", "isr"), ("logistic", "lift"), ("airlift", "lift"),
                    ("refuel", "tanker"), ("naval", "naval"), ("command", "c2")]


@dataclass
class _Line:
    comment: str
    actions: list[str]  # YAML flow mappings (none for a comment-only entry)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _clean(value: str) -> str:
    """Text from an article, a path or an option on one line: no line breaks of any kind (a newline in a file name
    must not become a line of YAML), no control characters."""
    return _UNSAFE.sub(" ", str(value))


def _q(value: str) -> str:
    return json.dumps(_clean(value), ensure_ascii=True)


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _selector(claim: Claim, roles: tuple[str, ...] = ("from", "in", "to")) -> dict[str, list[str]]:
    sel: dict[str, list[str]] = {}
    for p in claim.places:
        if p.role not in roles:
            continue
        if p.kind == "country":
            sel.setdefault("countries", []).append(p.code)
        elif p.kind == "site":
            sel.setdefault("sites", []).append(p.code)
        elif p.code == "EUR":
            sel.setdefault("groups", []).append("nato_europe")
        else:
            sel.setdefault("groups", []).append(p.code)
    return {k: list(dict.fromkeys(v)) for k, v in sel.items()}


def _flow(sel: dict[str, list[str]]) -> str:
    return "{" + ", ".join(f"{k}: [{', '.join(v)}]" for k, v in sel.items()) + "}"


def _who(claim: Claim, nations: set[str]) -> str | None:
    if claim.actor == "EUROPE":
        return "{groups: [nato_europe]}"
    return claim.actor if claim.actor in nations else None


def draft_scenario(items: list[tuple[Article, list[Claim]]], data: Dataset, *, name: str | None = None,
                   today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    dates = [a.date for a, _ in items if plausible(a.date)]
    start = _first_of_next_month(min(dates)) if dates else _first_of_next_month(today)
    horizon = dt.date(start.year + HORIZON_YEARS, 12, 31)
    default_by = dt.date(start.year + DEFAULT_YEARS, start.month, 1) - dt.timedelta(days=1)
    owners = set(data.force_elements["owner"])
    nations = set(data.nation_codes)
    unit_types = set(data.unit_types["id"])
    entries: list[_Line] = []
    for article, claims in items:
        for c in claims:
            where = f"{_clean(article.path)} chars {c.span[0]}-{c.span[1]}"
            said = ", ".join(c.attribution) or "the article"
            summary = (f"{c.actor or 'someone'} {c.action}"
                       + (f" {c.troops:,} troops" if c.troops else "")
                       + (f" ({c.unit_type})" if c.unit_type else "")
                       + (f", {c.location}" if c.location else "")
                       + f"; {c.modality}; per {said}")
            comment = _clean(f"{where}: {summary}")
            actions, why = _action(c, data, owners, nations, unit_types, start, default_by)
            entries.append(_Line(comment + (f" -- {why}" if why else ""), actions) if actions
                           else _Line(f"{comment} -- not drafted: {why}", []))
    header = _header(items, name, start, horizon, today)
    return _validated(header, entries, data)


def _by(claim: Claim, start: dt.date, default_by: dt.date) -> tuple[dt.date, str | None]:
    time = claim.time or {}
    if time.get("by"):
        by = dt.date.fromisoformat(time["by"])
        if by > start:
            return by, None
    return default_by, f"no date in the article: by {default_by.isoformat()} assumed"


def _action(c: Claim, data: Dataset, owners: set[str], nations: set[str], unit_types: set[str], start: dt.date,
            default_by: dt.date) -> tuple[list[str], str | None]:
    action, why = _one_action(c, data, owners, nations, unit_types, start, default_by)
    if action is None:
        return [], why
    return (action if isinstance(action, list) else [action]), why


def _present(data: Dataset, owner: str, country: str, day: dt.date) -> int:
    forces = data.forces_on(day)
    rows = forces[(forces["owner"] == owner) & (forces["country"] == country)]
    return int(rows["personnel"].fillna(0).sum())


def _ceiling(c: Claim, data: Dataset, who: str | None, country: str, start: dt.date, by: dt.date,
             why: str | None, wording: str) -> tuple[str | None, str | None]:
    """A number of troops leaving one nation as a `reduce` to what the data has there less that number."""
    present = _present(data, c.actor or "", country, start)
    if present <= 0:
        return None, f"the data has no {c.actor} forces in {country} on {start}"
    ceiling = max(0, present - int(c.troops or 0))
    note = wording.format(n=f"{c.troops:,}", present=f"{present:,}") + f": drafted as a ceiling of {ceiling:,}"
    return (f"reduce: {{who: {who}, in: {country}, to: {ceiling}, start: {start}, by: {by}}}",
            "; ".join(x for x in (note, why) if x))


def _one_action(c: Claim, data: Dataset, owners: set[str], nations: set[str], unit_types: set[str], start: dt.date,
                default_by: dt.date) -> tuple[str | list[str] | None, str | None]:
    if c.modality == "denial":
        return None, "a denial"
    who = _who(c, nations)
    if c.action == "station":
        return None, "forces already there (see `drawdown evidence check`)"
    if c.action in ("withdraw", "reduce", "keep", "shift") and (who is None or c.actor not in owners):
        return None, f"{c.actor or 'no actor'} has no forces in the data to move"
    by, why = _by(c, start, default_by)
    if c.action == "withdraw" and c.troops is not None:
        # a counted withdrawal is a partial one: a ceiling of what is there less the count, in one nation
        countries = c.countries
        if len(countries) != 1 or c.sites or c.groups:
            return None, f"a withdrawal of {c.troops:,} troops from several places: say how many leave each"
        return _ceiling(c, data, who, countries[0], start, by, why, "{n} of {present} in the data leave")
    if c.action == "withdraw":
        sel = _selector(c, ("from", "in", "to"))
        if not sel:
            return None, "no place named"
        return f"withdraw: {{who: {who}, from: {_flow(sel)}, start: {start}, by: {by}}}", why
    if c.action == "reduce":
        countries = c.countries
        if c.troops is None or len(countries) != 1:
            return None, "a reduction needs one nation and a figure"
        if c.troops_role == "to":
            return f"reduce: {{who: {who}, in: {countries[0]}, to: {c.troops}, start: {start}, by: {by}}}", why
        # "cut 12,000 troops", "reduced by 12,000": an amount, so the ceiling is what is there less it
        return _ceiling(c, data, who, countries[0], start, by, why, "a cut of {n} from {present} in the data")
    if c.action == "keep":
        sel = {k: v for k, v in _selector(c).items() if k in ("countries", "sites")}
        if not sel:
            return None, "nothing named to keep"
        # one keep per kind: keys in one selector combine with AND ("sites in GBR"), the article means OR
        return [f"keep: {{who: {who}, {k}: [{', '.join(v)}]}}" for k, v in sel.items()], None
    if c.action == "shift":
        src, dst = _selector(c, ("from", "in")), _selector(c, ("to",))
        if c.troops is None or not src or not dst:
            return None, "a shift needs a figure, where from and where to"
        return f"shift: {{who: {who}, troops: {c.troops}, from: {_flow(src)}, to: {_flow(dst)}, start: {start}, by: {by}}}", why
    if c.action == "deploy":
        dst = _selector(c, ("to", "in"))
        if who is None or c.troops is None or not dst:
            return None, "a deployment needs who, a troop figure and a destination"
        unit = c.unit_type if c.unit_type in unit_types else ("ibct" if c.actor == "USA" else "mech_bde")
        note = None if c.unit_type else f"unit type not in the article: {unit} assumed"
        note = "; ".join(x for x in (why, note) if x) or None
        return (f"deploy: {{who: {who}, to: {_flow(dst)}, troops: {c.troops}, unit_type: {unit}, start: {start}, "
                f"by: {by}}}"), note
    if c.action == "alert":
        days = (c.time or {}).get("notice_days")
        dst = _selector(c, ("to", "in"))
        if who is None or c.troops is None or not days or not dst:
            return None, "an alert needs who, a troop figure, the notice in days and a destination"
        return f"alert: {{who: {who}, troops: {c.troops}, notice_days: {days}, to: {_flow(dst)}, start: {start}}}", None
    if c.action == "backstop":
        text = c.quote.lower()
        capability = next((cap for words, cap in CAPABILITY_WORDS if words in text), None)
        beneficiaries = [p.code for p in c.places if p.kind == "country" and p.code in nations]
        if who is None or who.startswith("{") or not capability or len(beneficiaries) != 1:
            return None, "a backstop needs who, one nation supported and a capability"
        return f"backstop: {{who: {who}, for: {beneficiaries[0]}, capability: {capability}, start: {start}}}", None
    return None, f"no scenario action for {c.action}"


def _header(items: list[tuple[Article, list[Claim]]], name: str | None, start: dt.date, horizon: dt.date,
            today: dt.date) -> list[str]:
    first = items[0][0] if items else None
    title = (first.title if first and first.title else "news claims")
    slug = re.sub(r"[^a-z0-9]+", "-", (name or title).lower()).strip("-")[:40].strip("-") or "evidence-draft"
    if not re.match(r"^[a-z0-9]", slug):
        slug = "evidence-" + slug
    lines = [f"# Drafted by `drawdown evidence to-scenario` on {today.isoformat()} from {len(items)} article(s).",
             "# Each action names the article and character span it comes from; review every one before use:",
             "# what the articles leave open (dates, unit types) is filled with the defaults stated beside it.",
             f"name: {slug}",
             f"description: {_q('Drafted from news claims: ' + '; '.join((a.title or a.path)[:60] for a, _ in items))}",
             "provenance:"]
    for article, claims in items:
        note = f"drafted from {article.path} ({len(claims)} claims)"
        if not plausible(article.date):
            note += f"; no date in the article, {today.isoformat()} used"
        if not article.title:
            note += "; no title in the article"
        lines.append(f"  - {{outlet: {_q(article.outlet or 'unknown outlet')}, title: {_q(article.title or article.path)}, "
                     f"date: {(plausible(article.date) or today).isoformat()}, note: {_q(note)}}}")
    lines += [f"start: {start.isoformat()}", f"horizon: {horizon.isoformat()}", "step: quarter", "actions:"]
    return lines


def _render(header: list[str], entries: list[_Line]) -> str:
    lines = list(header)
    seen: set[str] = set()
    for entry in entries:
        lines.append(f"  # {entry.comment}")
        for action in entry.actions:
            if action in seen:
                lines.append("  #   (same action as above: not repeated)")
                continue
            seen.add(action)
            lines.append(f"  - {action}")
    if not any(e.actions for e in entries):
        lines.append("  []  # no claim carried enough to draft an action")
    return "\n".join(lines) + "\n"


def _validated(header: list[str], entries: list[_Line], data: Dataset) -> str:
    from drawdown.scenario import scenario_from_text

    for _ in range(len(entries) + 1):
        text = _render(header, entries)
        try:
            scenario = scenario_from_text(text, "<draft>")
            scenario.timeline(data)
            return text
        except DrawdownError as exc:
            lines = text.split("\n")
            refused: dict[str, str] = {}
            for problem in exc.problems:  # every action the compiler names goes in this pass
                line = problem.location.line if problem.location else None
                if line and 1 <= line <= len(lines) and lines[line - 1].lstrip().startswith("- "):
                    refused.setdefault(lines[line - 1].strip()[2:], str(problem.message))
            if not refused:
                raise
            for entry in entries:
                for action in [a for a in entry.actions if a in refused]:
                    entry.comment += f" -- not drafted: the scenario compiler refused `{action}` ({refused[action]})"
                    entry.actions.remove(action)
    raise DrawdownError.single("could not draft a valid scenario")  # pragma: no cover - each pass drops an action
