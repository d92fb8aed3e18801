"""Posture claims from article text: spaCy (a blank English pipeline, no model weights) with rules.

One claim is one action word (a *trigger*: "withdraw", "stationed", "on heightened alert") with what its clause
says about it: who acts, how many troops of which unit, where, when, how sure (modality) and on whose word
(attribution). The rules are in ``docs/evidence.md``; the words in ``lexicon.yaml``; the names come from the data.

A trigger makes a claim when its clause has a troop count, a place or a unit, or a force word ("troops",
"forces", "military footprint") together with an actor; triggers that need a force ("cut", "leave", "send")
count only when one follows them, and a trigger whose object is materiel or money ("send weapons") counts not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from bisect import bisect_left
from typing import Any

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from drawdown.data import Dataset
from drawdown.evidence.lexicon import Gazetteer, build_gazetteer, load_lexicon
from drawdown.evidence.source import MAX_CHARS, MONTHS, Article

ACTIONS = ("withdraw", "reduce", "deploy", "station", "alert", "shift", "keep", "backstop")
MODALITIES = ("fact", "plan", "proposal", "report", "denial", "speculation")
ACTOR_LABELS = ("NATION", "ACTOR", "ORG", "PERSON")
STOP_PHRASE = {"that", "who", "which", "as", "to", "on", "in", "'s", "’s", "said", "says", "stated", "told", "reported",
               "added", "wrote", "claimed", "confirmed", "announced", "on", "at", "last", "this", "earlier"}
WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
WORD_NUMBERS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                     "eighty": 80, "ninety": 90, "a": 1, "an": 1, "dozen": 12})
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
QUALIFIERS = {"over": "over", "above": "over", "more than": "over", "at least": "over", "upwards of": "over",
              "in excess of": "over", "about": "about", "around": "about", "some": "about", "roughly": "about",
              "approximately": "about", "nearly": "about", "almost": "about", "an estimated": "about",
              "estimated": "about", "close to": "about", "up to": "up to", "as many as": "up to",
              "fewer than": "up to", "less than": "up to", "under": "up to"}
SPEAKER_NOUNS = {"official", "officials", "source", "sources", "diplomat", "diplomats", "spokesman", "spokeswoman",
                 "spokesperson", "minister", "ministry", "mission", "analyst", "analysts", "commander", "officer"}
QUALIFIER_WORDS = {"about", "around", "some", "roughly", "approximately", "nearly", "almost", "over", "under"}
CONJUNCTIONS = {"or", "and", ",", "and/or", "nor", "&"}
ADJECTIVES = {"a", "an", "the", "potential", "possible", "complete", "full", "total", "partial", "planned", "proposed",
              "major", "significant", "further", "new", "its", "their", "his", "her", "'s", "’s", "troop", "military"}
NOT_PLACE_BEFORE = {"close to", "closer to", "near", "bordering", "borders of", "next to"}


@dataclass
class Place:
    code: str
    kind: str  # country | site | group | region
    role: str  # from | to | in
    text: str
    start: int = field(default=-1, repr=False, compare=False)  # token index of the name (not exported)


@dataclass
class Claim:
    """One posture claim, with the character span of its sentence in the article."""

    article: str
    index: int
    action: str
    actor: str | None
    troops: int | None
    troops_high: int | None
    qualifier: str | None  # exact | about | over | up to | range
    troops_role: str | None  # to (a ceiling: "cut to 25,000"), by (an amount: "cut by 10,000"), from, or None
    unit_type: str | None
    elements: list[str]
    places: list[Place]
    time: dict[str, Any] | None
    modality: str
    attribution: list[str]
    span: tuple[int, int]
    quote: str
    location: str | None = None

    @property
    def countries(self) -> list[str]:
        return [p.code for p in self.places if p.kind == "country"]

    @property
    def sites(self) -> list[str]:
        return [p.code for p in self.places if p.kind == "site"]

    @property
    def groups(self) -> list[str]:
        return [p.code for p in self.places if p.kind in ("group", "region")]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for place in out["places"]:
            place.pop("start", None)
        out["span"] = list(self.span)
        out["countries"], out["sites"], out["groups"] = self.countries, self.sites, self.groups
        return out


@dataclass
class _Trigger:
    start: int
    end: int
    action: str
    text: str
    needs_force: bool
    materiel: bool = False
    left: int = 0
    right: int = 0


@dataclass
class _State:
    last_outlet: str | None = None
    claims: list[Claim] = field(default_factory=list)


class Reader:
    """Builds the spaCy pipeline once (entity ruler from the data, phrase matchers from the lexicon)."""

    def __init__(self, data: Dataset, lexicon: dict[str, Any] | None = None):
        self.lex = lexicon or load_lexicon()
        self.g: Gazetteer = build_gazetteer(data, self.lex)
        self.nlp = spacy.blank("en")
        self.nlp.max_length = MAX_CHARS + 1000
        self.nlp.add_pipe("sentencizer")
        self.nlp.add_pipe("newline_sentences", after="sentencizer")
        ruler = self.nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
        patterns, seen = [], set()
        order = ["NOTPLACE", "REGION", "MISSION", "PERSON", "ELEMENT", "UNIT", "SITE", "NATION", "ACTOR", "ORG", "OUTLET"]
        for label in order:
            for name in self.g.names:
                if name.label != label or name.text in seen:
                    continue
                seen.add(name.text)
                tokens = [t.text for t in self.nlp.make_doc(name.text)]
                exact = len(tokens) == 1 or tokens[0].isupper()
                pattern = [{"ORTH": t} if exact else {"LOWER": t.lower()} for t in tokens]
                patterns.append({"label": label, "pattern": pattern, "id": name.code})
        ruler.add_patterns(patterns)
        self.triggers = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.needs_force: set[str] = set()
        self.needs_count: set[str] = set()
        for action, entry in self.lex["actions"].items():
            phrases = list(entry.get("words", [])) + list(entry.get("phrases", []))
            self.triggers.add(action, [self.nlp.make_doc(p) for p in phrases])
            self.needs_force |= {p.lower() for p in entry.get("needs_force_phrases", [])}
            self.needs_count |= {p.lower() for p in entry.get("needs_count_phrases", [])}
        self.cues = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for kind, phrases in self.lex["modality"].items():
            self.cues.add(kind, [self.nlp.make_doc(p) for p in phrases])
        self.force_nouns = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.force_nouns.add("noun", [self.nlp.make_doc(p) for p in self.lex["force_nouns"]])
        self.force_words = {w.lower() for w in self.lex["force_words"]}
        self.not_forces = {w.lower() for w in self.lex["not_forces"]}
        self.speech = {w.lower() for w in self.lex["speech_verbs"]}
        self.g_outlets = set(self.lex["outlets"])
        self.preps = {role: [p.lower().split() for p in words] for role, words in self.lex["prepositions"].items()}

    # ------------------------------------------------------------------------------------------- public
    def read(self, article: Article) -> list[Claim]:
        doc = self.nlp(article.body)
        _index_entities(doc)
        state = _State()
        triggers = self._find_triggers(doc)
        cues = sorted(((self.nlp.vocab.strings[m], s, e) for m, s, e in self.cues(doc)), key=lambda c: c[1])
        nouns = sorted((s, e) for _, s, e in self.force_nouns(doc))
        trigger_starts = [t.start for t in triggers]
        cue_starts = [c[1] for c in cues]
        noun_starts = [n[0] for n in nouns]
        for sent in doc.sents:  # everything below looks only inside one sentence: linear in the article
            if not sent.text.strip():
                continue
            for ent in _ents_in(doc, sent.start, sent.end):
                if ent.label_ == "OUTLET":
                    state.last_outlet = ent.text
            inside = [t for t in triggers[bisect_left(trigger_starts, sent.start):bisect_left(trigger_starts, sent.end)]
                      if t.end <= sent.end]
            if not inside:
                continue
            here_cues = cues[bisect_left(cue_starts, sent.start):bisect_left(cue_starts, sent.end)]
            here_nouns = nouns[bisect_left(noun_starts, sent.start):bisect_left(noun_starts, sent.end)]
            self._sentence(doc, sent, inside, here_cues, here_nouns, article, state)
        return state.claims

    # ------------------------------------------------------------------------------------------- triggers
    def _find_triggers(self, doc: Doc) -> list[_Trigger]:
        spans = [Span(doc, s, e, label=m) for m, s, e in self.triggers(doc)]
        for tok in doc:  # "pull US forces out of Poland", "bring the troops home": the verb is the trigger
            if tok.lower_ in ("pull", "pulls", "pulling", "pulled", "bring", "brings", "bringing", "brought"):
                tail = [x.lower_ for x in doc[tok.i + 1:tok.i + 6]]
                if any(w in ("out", "back", "home") for w in tail[1:]):
                    spans.append(Span(doc, tok.i, tok.i + 1, label="withdraw"))
        out = []
        for span in filter_spans(spans):
            if span.text.lower() in ("move", "moves", "shift") and span.start > 0 and \
                    doc[span.start - 1].lower_ in ("a", "the", "this", "that", "which", "such"):
                continue  # "a move criticised by Berlin": the noun, not a movement
            ent = _ent_at(doc, span.start)
            if ent is not None and span.end <= ent.end:
                continue  # "Kosovo Force", a unit name, an outlet: not an action
            out.append(_Trigger(span.start, span.end, span.label_, span.text, span.text.lower() in self.needs_force))
        return out

    def _sentence(self, doc: Doc, sent: Span, triggers: list[_Trigger], cues: list[tuple[str, int, int]],
                  nouns: list[tuple[int, int]], article: Article, state: _State) -> None:
        merged: list[_Trigger] = []
        for t in triggers:
            if merged and merged[-1].action == "alert" and t.action in ("deploy", "alert", "shift"):
                continue  # "on heightened alert to be prepared to deploy", "... and could move to": one alert
            if merged and merged[-1].action == t.action and t.start - merged[-1].end <= 2:
                continue
            if merged and t.start == merged[-1].end and merged[-1].action == "keep":
                merged.pop()  # "will remain stationed": the participle says what is kept
            t.materiel = self._materiel_object(doc, t, sent)  # bounds the clauses around it, makes no claim
            merged.append(t)
        self._scopes(doc, sent, merged)
        # a word that needs a force and has none ("leave the door open") is no trigger: it bounds no clause
        kept = [t for t in merged if not t.needs_force or t.materiel or self._has_force(doc, sent, t, nouns)]
        if len(kept) < len(merged):
            merged = kept
            self._scopes(doc, sent, merged)
        attribution = self._attribution(doc, sent, article, state)
        seen: set[tuple[Any, ...]] = set()
        for t in merged:
            if t.materiel:
                continue
            for claim in self._claims(doc, sent, t, cues, nouns, attribution, article, state):
                key = (claim.action, claim.actor, claim.troops, tuple(p.code for p in claim.places))
                if key not in seen:
                    seen.add(key)
                    claim.index = len(state.claims)  # numbered when kept, so numbers are 0..n-1 and unique
                    state.claims.append(claim)

    def _scopes(self, doc: Doc, sent: Span, merged: list[_Trigger]) -> None:
        """Each trigger's clause, [left, right): between its neighbours, cut at clause breaks; coordinated triggers
        share theirs."""
        for k, t in enumerate(merged):
            t.left = merged[k - 1].end if k else sent.start
            t.right = merged[k + 1].start if k + 1 < len(merged) else sent.end
            t.right = _clause_end(doc, t.end, t.right, self.speech)
            t.left = _clause_start(doc, t.left, t.start)
        # coordinated triggers ("the reduction or withdrawal of troops", "would withdraw the soldiers from
        # Lithuania and redeploy them") share the clause before them
        for k in range(1, len(merged)):
            between = doc[merged[k - 1].end:merged[k].start]
            if all(tok.lower_ in CONJUNCTIONS or tok.is_space for tok in between) or (
                    len(between) and between[-1].lower_ in ("and", "or") and not any(
                        tok.text in (",", ";") for tok in between[-2:-1])):
                merged[k].left = merged[k - 1].left
        for k in range(len(merged) - 2, -1, -1):
            between = doc[merged[k].end:merged[k + 1].start]
            if all(tok.lower_ in CONJUNCTIONS or tok.is_space for tok in between):
                merged[k].right = merged[k + 1].right

    def _has_force(self, doc: Doc, sent: Span, t: _Trigger, nouns: list[tuple[int, int]]) -> bool:
        """A force follows the trigger in its clause or stands just before it: a force word, a count, a unit, or
        for withdraw and keep a named site ('a closure of Mihail Kogalniceanu')."""
        ents = _ents_in(doc, t.left, t.right)
        units = [e for e in ents if e.label_ in ("UNIT", "ELEMENT")]
        counts = self._counts(doc, t.left, t.right, nouns)
        after = any(self._force_word(doc, i) for i in range(t.end, t.right)) or any(
            c["start"] >= t.end for c in counts) or any(u.start >= t.end for u in units) or (
            t.action in ("withdraw", "keep") and any(e.label_ == "SITE" and e.start >= t.end for e in ents))
        before = any(self._force_word(doc, i) for i in range(max(t.left, t.start - 6), t.start)) or any(
            t.start - u.end <= 6 and u.end <= t.start for u in units)
        return after or before

    def _materiel_object(self, doc: Doc, t: _Trigger, sent: Span) -> bool:
        for tok in doc[t.end:min(t.end + 6, sent.end)]:
            if tok.is_punct and tok.text not in ("-", "'"):
                return False
            if tok.lower_ in self.not_forces:
                return True
        return False

    # ------------------------------------------------------------------------------------------- one claim
    def _claims(self, doc: Doc, sent: Span, t: _Trigger, cues: list[tuple[str, int, int]],
                nouns: list[tuple[int, int]], attribution: list[str], article: Article,
                state: _State) -> list[Claim]:
        scope = range(t.left, t.right)
        counts = self._counts(doc, t.left, t.right, nouns)
        ents = _ents_in(doc, t.left, t.right)
        units = [e for e in ents if e.label_ in ("UNIT", "ELEMENT")]
        places = self._places(doc, ents, t)
        # a trigger that needs a force was kept by _sentence only with one (its clause only grew since)
        if t.text.lower() in self.needs_count and not counts:
            return []  # "there are no plans ...": not a count of forces present
        if t.action in ("keep",) and any(doc[i].lower_ == "out" for i in range(t.end, t.right)):
            return []  # "keep NATO out of Ukraine": a demand that forces stay away, not a posture kept
        if t.action == "backstop":
            for e in ents:  # "offering Ukraine a security guarantee": Ukraine is who the backstop is for
                if e.label_ == "NATION" and 0 <= t.start - e.end <= 3 and doc[e.end].lower_ in ("a", "an"):
                    places.append(Place(e.ent_id_, "country", "to", e.text, e.start))
        if t.action == "station":
            places = [Place(p.code, p.kind, "in", p.text, p.start) for p in places]
            if t.text.lower().startswith("host"):  # "Lithuania hosts 1,000 US troops": the host is the place
                hosts = [e for e in ents if e.label_ == "NATION" and e.end <= t.start and t.start - e.end <= 2]
                places = [Place(e.ent_id_, "country", "in", e.text, e.start) for e in hosts] + places
                ents = [e for e in ents if e not in hosts]
        actor = self._actor(doc, ents, places, t, nouns)
        has_force_word = any(self._force_word(doc, i) for i in scope) or bool(counts)
        if t.action == "backstop":
            if actor is None:
                return []
        elif not (counts or places or units or (has_force_word and actor)):
            return []
        modality = self._modality(doc, t, cues, attribution, article)
        unit_type = None
        elements: list[str] = []
        for u in units:
            if u.label_ == "ELEMENT":
                elements.append(u.ent_id_)
                unit_type = unit_type or self.g.element_unit.get(u.ent_id_)
            else:
                unit_type = unit_type or u.ent_id_
        unit_type = self._unit_at_site(unit_type, places, actor) if not elements else unit_type
        time = _time(doc, t, article)
        quote = doc[sent.start:sent.end].text.strip()
        start = doc[sent.start].idx + (len(doc[sent.start:sent.end].text) - len(doc[sent.start:sent.end].text.lstrip()))
        span = (start, start + len(quote))
        location = "; ".join(dict.fromkeys(self.g.display(p.code) for p in places)) or None
        base = dict(article=article.id, action=t.action, unit_type=unit_type, elements=elements, places=places,
                    time=time, modality=modality, attribution=attribution, span=span, quote=quote, location=location)
        if t.action == "reduce" and any(c["role"] == "to" for c in counts):
            counts = [c for c in counts if c["role"] == "to"]  # "from 35,000 to 25,000": the ceiling
        if actor is None:
            actor = self._actor_from_units(units, places)
        if actor is None and not any((c or {}).get("actor") for c in counts) and state.claims:
            last = state.claims[-1]
            same_paragraph = "\n\n" not in article.body[last.span[1]:doc[sent.start].idx]
            if same_paragraph and last.actor and any(doc[i].lower_ in self.force_words for i in scope):
                actor = last.actor  # "Germany will station a brigade ... The first 150 troops arrived ..."
        out = []
        for c in counts or [None]:
            who = (c or {}).get("actor") or actor
            out.append(Claim(index=len(state.claims) + len(out), actor=who,
                             troops=c["value"] if c else None, troops_high=c.get("high") if c else None,
                             qualifier=c["qualifier"] if c else None, troops_role=c["role"] if c else None, **base))
        return out

    # ------------------------------------------------------------------------------------------- numbers
    def _counts(self, doc: Doc, left: int, right: int, nouns: list[tuple[int, int]]) -> list[dict[str, Any]]:
        out = []
        i = left
        while i < right:
            parsed = _number(doc, i, right)
            if parsed is None:
                i += 1
                continue
            value, end = parsed
            high = None
            nxt = doc[end].lower_ if end < right else ""
            if nxt in ("to", "-", "and") and end + 1 < right:
                second = _number(doc, end + 1, right)
                if second and second[0] > value:
                    high, end = second
            noun = self._noun_after(doc, end, right, nouns)
            if noun is None and _preceded_by(doc, i, left, ("from", "to", "by")):
                # "the number of US troops in Germany from about 35,000 to 25,000"
                earlier = [s for s, _ in nouns if left <= s < i and i - s <= 10]
                is_year = 1900 <= value <= 2100 and "," not in doc[i].text
                follows = doc[end] if end < right else None
                bare = follows is None or follows.is_punct or follows.lower_ in AFTER_BARE_COUNT
                noun = end if earlier and not is_year and bare else None
            if noun is None or (1900 <= value <= 2100 and "," not in doc[i].text and noun > end):
                i = end
                continue
            qualifier = "range" if high else _qualifier(doc, i, left)
            actor = None
            for k in range(max(left, i - 3), i):
                ent = _ent_at(doc, k)
                if ent is not None and ent.label_ in ACTOR_LABELS and k + 2 >= i and not (
                        ent.label_ == "NATION" and self._role(doc, ent.start, _Trigger(0, 0, "", "", False, left=left))):
                    actor = self._code(ent)  # "Italy's 1,258 troops", not "in Germany by 12,000"
            for k in range(end, noun):
                ent = _ent_at(doc, k)
                if ent is not None and ent.label_ in ACTOR_LABELS:
                    actor = self._code(ent)
            before = doc[i - 1].lower_ if i > left else ""
            if before in QUALIFIER_WORDS and i - 1 > left:
                before = doc[i - 2].lower_
            role = before if before in ("to", "by", "from") else None
            out.append({"value": int(value), "high": int(high) if high else None, "qualifier": qualifier,
                        "start": i, "actor": actor, "role": role})
            i = noun + 1
        return out

    def _noun_after(self, doc: Doc, end: int, right: int, nouns: list[tuple[int, int]]) -> int | None:
        for s, _ in nouns:
            if end <= s < min(end + 4, right):
                gap = doc[end:s]
                if all(not tok.is_punct or tok.text == "-" for tok in gap) and not any(
                        tok.lower_ in ("of", "to", "in", "from", "for", "by", "with", "days", "years") for tok in gap):
                    return s
        return None

    # ------------------------------------------------------------------------------------------- places
    def _places(self, doc: Doc, ents: list[Span], t: _Trigger) -> list[Place]:
        places: list[Place] = []
        previous_place_end = -10
        for ent in ents:
            label = ent.label_
            role = self._role(doc, ent.start, t)
            before2 = " ".join(tok.lower_ for tok in doc[max(0, ent.start - 2):ent.start])
            if label in ("SITE", "NATION") and any(before2.endswith(p) for p in NOT_PLACE_BEFORE):
                continue  # "near Constanta", "close to Russia's borders"
            before3 = " ".join(tok.lower_ for tok in doc[max(t.left, ent.start - 3):ent.start])
            if any(w in before3.split() for w in ("not", "instead")) or "rather than" in before3:
                continue  # "from Germany, not from Poland"
            if label == "SITE":
                places.append(Place(ent.ent_id_, "site", role or "in", ent.text, ent.start))
            elif label == "MISSION":
                places.append(Place(ent.ent_id_, "country", role or "in", ent.text, ent.start))
            elif label == "REGION":
                kind = "region" if ent.ent_id_ == "EUR" else "group"
                if ent.text.lower().startswith(("further", "farther", "nations closer", "countries closer")):
                    role = "to"
                places.append(Place(ent.ent_id_, kind, role or "in", ent.text, ent.start))
            elif label == "NATION":
                after = doc[ent.end].text if ent.end < len(doc) else ""
                if after in ("'s", "’s", "'", "’"):
                    continue
                if any(tok.lower_ in self.force_words for tok in doc[ent.end:ent.end + 2]):
                    continue  # "the US military footprint": an actor
                before2 = " ".join(tok.lower_ for tok in doc[max(0, ent.start - 2):ent.start])
                if any(before2.endswith(p) for p in NOT_PLACE_BEFORE):
                    continue
                listed = ent.start - previous_place_end <= 2 and all(
                    tok.lower_ in CONJUNCTIONS for tok in doc[previous_place_end:ent.start])
                after_site = places and places[-1].kind == "site" and ent.start - previous_place_end <= 1 and \
                    doc[ent.start - 1].text == ","
                if role is None and not listed and not after_site:
                    continue
                if role is None and places:
                    role = places[-1].role
                places.append(Place(ent.ent_id_, "country", role or "in", ent.text, ent.start))
            else:
                continue
            previous_place_end = ent.end
        # a country named only to locate a site ("Ramstein, Germany") is not a place of its own
        site_countries = {self.g.site_country.get(p.code) for p in places if p.kind == "site"}
        out, seen = [], set()
        for p in places:
            if p.kind == "country" and p.code in site_countries and any(
                    q.kind == "site" and self.g.site_country.get(q.code) == p.code for q in places):
                idx = places.index(p)
                if idx and places[idx - 1].kind == "site":
                    continue
            if (p.code, p.kind) not in seen:
                seen.add((p.code, p.kind))
                out.append(p)
        return out

    def _role(self, doc: Doc, start: int, t: _Trigger) -> str | None:
        """The locative preposition within three words before a name: from, to or in (None if there is none)."""
        window = [tok.lower_ for tok in doc[max(t.left, start - 3):start]]
        for back in range(len(window)):
            for role in ("from", "to", "in"):
                for words in self.preps[role]:
                    n = len(words)
                    seq = window[len(window) - back - n:len(window) - back] if len(window) - back - n >= 0 else None
                    if seq == words:
                        between = window[len(window) - back:]
                        if all(w in ("the", "a", "an", "southern", "northern", "eastern", "western", "central",
                                     "all", "neighbouring", "neighboring") for w in between):
                            return role
        return None

    # ------------------------------------------------------------------------------------------- actor
    def _code(self, ent: Span) -> str:
        if ent.label_ == "PERSON":
            return self.g.person_speaks_for.get(ent.ent_id_, ent.ent_id_)
        return ent.ent_id_

    def _actor(self, doc: Doc, ents: list[Span], places: list[Place], t: _Trigger,
               nouns: list[tuple[int, int]]) -> str | None:
        placed = {p.start for p in places}
        candidates = [e for e in ents if e.label_ in ACTOR_LABELS and e.start not in placed
                      and not (e.label_ == "NATION" and self._role(doc, e.start, t))]
        # 1. next to the trigger: "a potential US withdrawal", "Russian troops deployed", "a US security guarantee",
        #    "the Kosovo Force (KFOR) maintains a presence" (a mission acts for NATO)
        adjacent = candidates + [e for e in ents if e.label_ == "MISSION"]
        for e in sorted((e for e in adjacent if e.end <= t.start), key=lambda e: e.start, reverse=True):
            gap = doc[e.end:t.start]
            if len(gap) <= 3 and all(tok.lower_ in self.force_words or tok.lower_ in ADJECTIVES or tok.text == ")"
                                     for tok in gap):
                if e.label_ == "MISSION":
                    return "NATO"
                if not (t.action == "backstop" and e.label_ == "NATION" and len(gap) > 0 and gap[0].lower_ in ("a", "an")):
                    return self._code(e)
        # 2. modifying a force word after the trigger: "the withdrawal of American troops"
        for e in candidates:
            owns_count = any(tok.like_num for tok in doc[e.end:min(e.end + 3, t.right)])
            if t.end <= e.start <= t.end + 4 and not owns_count and self._modifies_force(doc, e, t.right, nouns) \
                    and not self._attributed(doc, e):
                return self._code(e)
        # 3. the nearest name before the trigger that is neither a place nor a source
        before = [e for e in candidates if e.end <= t.start and not self._attributed(doc, e)
                  and not _in_relative_clause(doc, e, t.start)
                  and not (t.action == "backstop" and e.label_ == "NATION" and t.start - e.end <= 3)]
        if before:
            return self._code(before[-1])
        after = [e for e in candidates if e.start >= t.end and e.start - t.end <= 3]
        if after:
            return self._code(after[0])
        # 4. any name modifying a force word in the clause ("a wider review of the US force posture")
        for e in candidates:
            if self._modifies_force(doc, e, t.right, nouns) and not self._attributed(doc, e):
                return self._code(e)
        # 5. the sentence's subject when the clause has none ("Washington would not ..., but could provide")
        sentence = [e for e in _ents_in(doc, doc[t.start].sent.start, t.left)
                    if e.label_ in ACTOR_LABELS and not self._attributed(doc, e)
                    and not (e.label_ == "NATION" and self._role(doc, e.start, _Trigger(0, 0, "", "", False,
                                                                                         left=doc[t.start].sent.start)))]
        return self._code(sentence[-1]) if sentence else None

    def _modifies_force(self, doc: Doc, e: Span, right: int, nouns: list[tuple[int, int]]) -> bool:
        nxt = doc[e.end:min(e.end + 3, right)]
        if len(nxt) and nxt[0].is_punct and nxt[0].text not in ("'s", "’s"):
            return False
        return any(tok.lower_ in self.force_words for tok in nxt) or any(e.end <= s < e.end + 3 for s, _ in nouns)

    def _force_word(self, doc: Doc, i: int) -> bool:
        """'troops', 'forces', 'brigade' ... but not inside a name ('US Air Forces in Europe')."""
        return doc[i].lower_ in self.force_words and doc[i].ent_type_ not in ("ACTOR", "ORG", "OUTLET", "NOTPLACE")

    def _actor_from_units(self, units: list[Span], places: list[Place]) -> str | None:
        """Who acts when the clause names a unit, not a state: the owner of a named element ('the 2nd Cavalry
        Regiment'), a US-only unit type ('the 82nd Airborne'), or the one owner of forces at a named site."""
        for u in units:
            if u.label_ == "ELEMENT" and u.ent_id_ in self.g.element_owner:
                return self.g.element_owner[u.ent_id_]
        for u in units:
            if u.label_ == "UNIT" and u.ent_id_ in self.g.us_unit_types:
                return "USA"
        if units:
            owners = {o for p in places if p.kind == "site" for o in self.g.site_owners.get(p.code, ())}
            if len(owners) == 1:
                return next(iter(owners))
        return None

    def _unit_at_site(self, unit_type: str | None, places: list[Place], actor: str | None) -> str | None:
        """A generic unit word at a site whose forces the data knows becomes that element's unit type
        ('the rotational armoured brigade at Zagan' is the US ABCT there)."""
        if unit_type is None:
            return None
        category = self.g.unit_category.get(unit_type)
        for p in places:
            if p.kind != "site":
                continue
            for owner, element_type in self.g.site_elements.get(p.code, ()):
                if (actor in (None, owner)) and self.g.unit_category.get(element_type) == category and \
                        element_type != unit_type and owner != self.g.unit_home.get(unit_type, owner):
                    return element_type
        return unit_type

    def _attributed(self, doc: Doc, ent: Span) -> bool:
        """A name that a claim is attributed to, not the actor: 'told the Financial Times', 'according to X'."""
        before = " ".join(tok.lower_ for tok in doc[max(0, ent.start - 3):ent.start])
        return any(w in before.split(" ")[-3:] for w in ("told", "citing", "cited", "quoted")) or \
            "according to" in before

    # ------------------------------------------------------------------------------------------- modality
    def _modality(self, doc: Doc, t: _Trigger, cues: list[tuple[str, int, int]], attribution: list[str],
                  article: Article) -> str:
        before = [(kind, s, e) for kind, s, e in cues if t.left <= s and e <= t.start]
        # "did not rule out", "neither confirm nor deny": a longer hedge swallows the denial words inside it
        hedges = [(s, e) for kind, s, e in before if kind != "denial" and e - s > 1]
        swallowed = [c for c in before if c[0] == "denial" and any(s <= c[1] and c[2] <= e for s, e in hedges)]
        if swallowed:
            return "speculation"  # a hedge over the whole statement ("did not rule out that ... will ...")
        if any(kind == "denial" for kind, _, _ in before):
            return "denial"
        ranked = [c for c in before if c[0] != "denial"]
        if ranked:
            return max(ranked, key=lambda c: c[2])[0]
        others = [name for name in attribution if name != article.outlet]
        return "report" if others else "fact"

    # ------------------------------------------------------------------------------------------- attribution
    def _attribution(self, doc: Doc, sent: Span, article: Article, state: _State) -> list[str]:
        chain: list[str] = [article.outlet] if article.outlet else []
        items: list[tuple[int, str]] = []
        text_lower = sent.text.lower()
        for ent in _ents_in(doc, sent.start, sent.end):
            if ent.label_ == "OUTLET":
                items.append((ent.start, ent.text))
        anaphor = re.search(r"\b(the|that) (outlet|publication|article|report|paper|newspaper|piece)\b", text_lower)
        if anaphor and state.last_outlet and re.search(r"according to|reported|cited|citing|quoted", text_lower):
            items.append((sent.start, state.last_outlet))
        for i in range(sent.start, sent.end):
            tok = doc[i]
            two = " ".join(x.lower_ for x in doc[i:i + 2])
            if tok.lower_ == "citing" or two in ("cited by", "according to"):
                first = i + (1 if tok.lower_ == "citing" else 2)
                phrase = _phrase(doc, first, sent.end)
                if phrase and not any(phrase.lower() == x.lower() for _, x in items):
                    items.append((first, phrase))
            if tok.lower_ in self.speech and not tok.ent_type_:
                found = len(items)
                for k in range(i - 1, max(sent.start, i - 7) - 1, -1):
                    ent = _ent_at(doc, k)
                    if ent is not None and ent.label_ == "OUTLET":
                        if doc[max(0, ent.start - 2):ent.start].text.lower() in ("cited by", "according to"):
                            continue  # 'an official cited by Bild stated': the official speaks
                        break
                    if ent is not None and ent.label_ in ("PERSON", "ACTOR", "ORG", "NATION"):
                        items.append((ent.start, self._speaker(doc, ent, i)))
                        break
                    if doc[k].is_punct and doc[k].text not in ("'", "’", "-"):
                        break
                if len(items) == found:
                    speaker = _speaker_phrase(doc, i, sent.start)
                    if speaker:
                        items.append((i, speaker))
        outlets_named = [name.lower() for _, name in items if name in self.g_outlets]
        for _, name in sorted(items, key=lambda x: x[0]):
            if name not in self.g_outlets and any(o in name.lower() for o in outlets_named):
                continue  # 'the Bild report' when Bild is already in the chain
            if name and name not in chain and not re.match(r"^(the )?(outlet|publication|article|report|paper)$",
                                                           name.lower()):
                chain.append(name)
        return chain

    def _speaker(self, doc: Doc, ent: Span, verb: int) -> str:
        """The name as printed, or the noun phrase it heads: 'an Eastern European security official'."""
        if ent.label_ != "PERSON":
            tail = doc[ent.end:min(verb, ent.end + 5)]
            for k, tok in enumerate(tail):
                if tok.lower_ in SPEAKER_NOUNS:
                    return doc[ent.start:ent.end + k + 1].text
        return ent.text


# ----------------------------------------------------------------------------------------------- helpers

@spacy.Language.component("newline_sentences")
def _newline_sentences(doc: Doc) -> Doc:
    """A line break ends a sentence (headlines and list items have no full stop), except inside hard-wrapped
    prose: a single line break after a long line that does not end a sentence, before a word in lower case or a
    number ("... will withdraw\n3,000 troops")."""
    line_start = 0
    for tok in doc[1:]:
        prev = doc[tok.i - 1]
        breaks = "\n" in prev.text or "\n" in prev.whitespace_
        if not breaks:
            continue
        gap = prev.text + prev.whitespace_ if "\n" in prev.whitespace_ else prev.text
        line_length = prev.idx + len(prev.text) - line_start
        line_start = tok.idx
        last = prev
        while last.i > 0 and last.is_space:
            last = doc[last.i - 1]
        nxt = tok if not tok.is_space else (doc[tok.i + 1] if tok.i + 1 < len(doc) else tok)
        wrapped = gap.count("\n") == 1 and line_length >= 50 and last.text not in (
            ".", "!", "?", "\"", "”", "'", "’", ":") and not last.is_space and (
            nxt.text[:1].islower() or nxt.text[:1].isdigit())  # a headline above a sentence is not a wrap
        if not wrapped:
            tok.is_sent_start = True
    return doc


MONTH_WORDS = {m for m in MONTHS}
AFTER_BARE_COUNT = {"to", "by", "in", "at", "and", "or", "from", "over", "under", "this", "next", "last", "within",
                    "before", "after", "until", "troops", "soldiers"}
SUBORDINATORS = {"if", "while", "whereas", "although", "though", "because", "unless", "which", "who", "but", "when",
                 "after", "before", "since", "as", "amid", "despite", "so"}


def _clause_end(doc: Doc, start: int, right: int, speech: set[str]) -> int:
    """Where the trigger's clause ends: at a comma that opens a subordinate clause (', if ...', ', which ...') or an
    attribution (', Defence Minister X said ...'), or at a semicolon, colon or dash; never beyond ``right``."""
    for i in range(start, right):
        tok = doc[i]
        if tok.text in (";", ":", "—", "–"):
            return i
        if tok.text == "," and i + 1 < right and (doc[i + 1].lower_ in SUBORDINATORS or any(
                x.lower_ in speech for x in doc[i + 1:min(right, i + 8)])):
            return i
        if tok.lower_ in ("after", "because", "unless", "although", "if") and i > start and i + 1 < right and \
                not doc[i + 1].like_num and doc[i + 1].lower_ not in MONTH_WORDS:
            return i
    return right


def _clause_start(doc: Doc, left: int, start: int) -> int:
    """Where the trigger's clause starts: after the last ', while ...'-type break or semicolon before it."""
    for i in range(start - 1, left - 1, -1):
        tok = doc[i]
        if tok.text in (";",):
            return i + 1
        if tok.text == "," and i + 1 < start and doc[i + 1].lower_ in ("while", "whereas", "but", "although"):
            return i + 1
    return left


def _in_relative_clause(doc: Doc, ent: Span, trigger: int) -> bool:
    """'Italy, which leads the NATO mission, plans to send ...': NATO sits in a relative clause."""
    opened = None
    for i in range(ent.start - 1, max(-1, ent.start - 10), -1):
        if doc[i].text == "," and i + 1 < len(doc) and doc[i + 1].lower_ in ("which", "who", "whose"):
            opened = i
            break
        if doc[i].text in (",", ".", ";"):
            return False
    if opened is None:
        return False
    return any(doc[k].text == "," for k in range(ent.end, trigger))


def _speaker_phrase(doc: Doc, verb: int, start: int) -> str | None:
    """Who speaks when no known name does: a run of capitalised words ('Capitol Ledger reported', 'Baltic
    Defence Daily, reported'), or a noun phrase ending in an official's title ('the ministry added', 'a senior
    Romanian officer said')."""
    k = verb - 1
    if k >= start and doc[k].text == ",":
        k -= 1
    end = k + 1
    words = []
    while k >= start and len(words) < 6 and not doc[k].is_punct and doc[k].text[:1].isupper() and not doc[k].is_sent_start:
        words.append(doc[k])
        k -= 1
    if words and k >= start and doc[k].lower_ in ("the", "weekly", "daily", "newspaper", "outlet", ","):
        return doc[k + 1:end].text
    if len(words) >= 2:
        return doc[k + 1:end].text
    # a noun phrase: determiner ... title
    for n in range(1, 7):
        first = verb - n
        if first < start or doc[first].is_punct:
            break
        if doc[first].lower_ in ("the", "a", "an", "two", "three", "four", "several") and \
                doc[verb - 1].lower_ in SPEAKER_NOUNS:
            return doc[first:verb].text
    return None


def _preceded_by(doc: Doc, i: int, left: int, words: tuple[str, ...]) -> bool:
    k = i - 1
    if k >= left and doc[k].lower_ in QUALIFIER_WORDS:
        k -= 1
    return k >= left and doc[k].lower_ in words


def _index_entities(doc: Doc) -> None:
    """Token -> entity, once per document (looking entities up by scanning them would be quadratic)."""
    index: list[Span | None] = [None] * len(doc)
    for ent in doc.ents:
        for i in range(ent.start, ent.end):
            index[i] = ent
    doc.user_data["ent_at"] = index
    ents = list(doc.ents)
    doc.user_data["ents"] = (ents, [e.start for e in ents])


def _ents_in(doc: Doc, start: int, end: int) -> list[Span]:
    """Entities wholly inside tokens [start, end) (Span.ents rebuilds every entity of the document per call)."""
    if "ents" not in doc.user_data:
        _index_entities(doc)
    ents, starts = doc.user_data["ents"]
    return [e for e in ents[bisect_left(starts, start):bisect_left(starts, end)] if e.end <= end]


def _ent_at(doc: Doc, i: int) -> Span | None:
    index = doc.user_data.get("ent_at")
    if index is None:
        _index_entities(doc)
        index = doc.user_data["ent_at"]
    return index[i]


def _phrase(doc: Doc, start: int, end: int, limit: int = 7) -> str:
    words: list[Token] = []
    for tok in doc[start:min(end, start + limit)]:
        if (tok.is_punct and tok.text not in ("-",)) or tok.lower_ in STOP_PHRASE:
            break
        words.append(tok)
    text = "".join(t.text_with_ws for t in words).strip()
    if not words or words[0].lower_ in ("our", "my", "their", "his", "her", "its", "this", "these"):
        return ""
    return text if len(text) > 1 else ""


def _number(doc: Doc, i: int, right: int) -> tuple[float, int] | None:
    """A number starting at token i: '8,500', '1.5 million', 'two thousand', 'five'; returns (value, end)."""
    tok = doc[i]
    text = tok.lower_
    value: float | None = None
    if re.fullmatch(r"\d{1,3}(,\d{3})+|\d+(\.\d+)?", text):
        value = float(text.replace(",", ""))
    elif text in WORD_NUMBERS and text not in ("a", "an"):
        value = float(WORD_NUMBERS[text])
        if i + 2 < right and doc[i + 1].text == "-" and doc[i + 2].lower_ in WORD_NUMBERS:
            value += WORD_NUMBERS[doc[i + 2].lower_]
            i += 2
    elif text in ("a", "an") and i + 1 < right and doc[i + 1].lower_ in ("thousand", "hundred", "dozen"):
        value = 1.0
    if value is None:
        return None
    end = i + 1
    while end < right and doc[end].lower_ in SCALES:
        value *= SCALES[doc[end].lower_]
        end += 1
    if end < right and doc[end].lower_ == "dozen":
        value *= 12
        end += 1
    return value, end


def _qualifier(doc: Doc, i: int, left: int) -> str:
    for n in (3, 2, 1):
        words = " ".join(tok.lower_ for tok in doc[max(left, i - n):i])
        if words in QUALIFIERS:
            return QUALIFIERS[words]
    return "exact"


_YEAR_BY = re.compile(r"\b(?:by|before|until|through)\s+(?:the\s+end\s+of\s+)?(20\d\d)\b", re.I)
_YEAR_IN = re.compile(r"\b(?:in|during|from|since|early|mid|late|mid-)\s*(20\d\d|19\d\d)\b", re.I)
_MONTH_YEAR = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(20\d\d)\b", re.I)
_RELATIVE = re.compile(r"\b(in the coming (?:years|months|weeks)|next (?:year|month|week)|this (?:year|month|week)|"
                       r"within (?:a|one|two|three|\d+) (?:years?|months?|weeks?)|late last month|last (?:month|week|year)"
                       r"|in the long term|in the near term|by the end of (?:the|this|next) (?:year|decade))\b", re.I)
_NOTICE = re.compile(r"\b(?:within|in as few as|in a few as|in as little as|on|at|with)\s+(\w+)[- ](days?|hours?)\b"
                     r"|\b(\w+)[- ](days?|hours?)(?:'|’)?\s+notice\b", re.I)


def _time(doc: Doc, t: _Trigger, article: Article) -> dict[str, Any] | None:
    text = doc[t.left:t.right].text
    found: dict[str, Any] = {}
    notice = _NOTICE.search(text)
    if notice:
        word = (notice.group(1) or notice.group(3) or "").lower()
        unit = (notice.group(2) or notice.group(4) or "").lower()
        value = int(word) if word.isdigit() else WORD_NUMBERS.get(word)
        if value:
            found["notice_days"] = value if unit.startswith("day") else max(1, -(-value // 24))
            found["text"] = notice.group(0)
    for pattern, kind in ((_YEAR_BY, "by"), (_MONTH_YEAR, "month"), (_YEAR_IN, "in"), (_RELATIVE, "relative")):
        match = pattern.search(text)
        if not match:
            continue
        found.setdefault("text", match.group(0))
        if kind == "by":
            found["by"] = dt.date(int(match.group(1)), 12, 31).isoformat()
        elif kind == "in":
            found["year"] = int(match.group(1))
        elif kind == "month":
            found["month"] = f"{int(match.group(2)):04d}-{MONTHS[match.group(1).lower().rstrip('.')]:02d}"
        break
    return found or None

