"""The scenario language: one typed class per action, validated with pydantic.

A scenario file is YAML. Its ``actions`` list holds one-key mappings (``- withdraw: {...}``); the key picks
the action class below. The JSON Schema (``drawdown schema``) and ``docs/scenario-language.md`` are generated
from these classes (idea from Stone Soup's self-describing components), so the docs never drift from the code.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator

# Codes are checked against the nations table when the scenario is compiled (with a did-you-mean), not by a
# pattern here: "unknown country 'DEUX' (did you mean 'DEU'?)" helps more than a regular expression.
ISO3 = Annotated[str, Field(description="ISO 3166-1 alpha-3 code from the nations table, e.g. DEU (XKX for Kosovo)")]


#: Largest troop number an action may name (more than every army in Europe together): guards against typos.
MAX_TROOPS = 5_000_000


def _date_not_number(value: Any) -> Any:
    """Refuse numbers as dates (pydantic would read 0 as 1970-01-01) and years outside 1900–2200."""
    if isinstance(value, (bool, int, float)):
        raise ValueError("expected a date as YYYY-MM-DD")
    if isinstance(value, str):
        try:
            parsed = dt.date.fromisoformat(value.strip())
        except ValueError:
            return value  # pydantic reports it with its own message
        if not 1900 <= parsed.year <= 2200:
            raise ValueError("expected a year between 1900 and 2200")
    return value


Date = Annotated[dt.date, BeforeValidator(_date_not_number)]
Troops = Annotated[int, Field(strict=True, gt=0, le=MAX_TROOPS)]
Codes = Annotated[list[str], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Selector(_Strict):
    """Which forces or places an action applies to.

    Keys combine with AND, list items with OR: ``{countries: [DEU], unit_types: [fighter_sqn]}`` is the fighter
    squadrons in Germany. A bare code or list of codes is shorthand for ``countries``.
    """

    countries: Codes | None = Field(None, description="Host nations (ISO3)")
    sites: Codes | None = Field(None, description="Site ids from the sites table")
    units: Codes | None = Field(None, description="Force element ids from the force tables")
    unit_types: Codes | None = Field(None, description="Unit type ids from the unit_types table")
    groups: Codes | None = Field(None, description="Group names from the groups table (eu, nato_europe, baltic, ...)")
    nato_joined_after: Annotated[int, Field(strict=True, ge=1949, le=2100)] | None = Field(
        None, description="NATO members that joined after this year")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"countries": [value]}
        if isinstance(value, list):
            return {"countries": value}
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError(
                "a selector needs at least one of countries, sites, units, unit_types, groups, nato_joined_after"
            )
        return self

    def describe(self) -> str:
        parts = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}")
        return " & ".join(parts)


NationsSelector = Annotated[
    Selector,
    Field(description="Nations: an ISO3 code, a list of codes, or a selector with countries/groups/nato_joined_after"),
]


class Action(_Strict):
    """Common fields; ``kind`` is the YAML key that introduces the action."""

    kind: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def window(self, scenario_start: dt.date) -> tuple[dt.date, dt.date] | None:
        """The dates between which the action takes effect (linear ramp), or None if it is not time-phased."""
        start = getattr(self, "start", None) or scenario_start
        by = getattr(self, "by", None)
        if by is None:
            return None
        return start, by


class MoveOptions(_Strict):
    """How the movement engine moves the forces of an action (`drawdown move`)."""

    mode: Literal["auto", "air", "sea", "rail", "road"] = Field(
        "auto", description="Lift mode: auto (people by air, heavy cargo by sea, light by air; rail in Europe), or one mode")
    priority: Annotated[int, Field(strict=True, ge=0, le=9)] = Field(
        0, description="Queue priority for scarce lift (9 first)")
    lift: dict[str, Annotated[int, Field(strict=True, ge=1, le=10_000)]] | None = Field(
        None, description="Lift dedicated to this move: aircraft or ships by asset id, e.g. {c17_available: 40}")
    prepositioned: bool = Field(False, description="Draw prepositioned equipment in Europe instead of shipping it")


class Withdraw(Action, MoveOptions):
    kind: ClassVar[str] = "withdraw"
    summary: ClassVar[str] = "Take an owner's forces out of Europe from the selected places, phased from start to by."
    who: ISO3 = Field("USA", description="Owner of the forces that leave")
    from_: Selector = Field(alias="from", description="Where they leave from")
    start: Date | None = Field(None, description="First day of the withdrawal (default: scenario start)")
    by: Date = Field(description="Date by which all selected forces have left")
    profile: Literal["linear", "step"] = Field(
        "linear", description="linear: a steady drawdown from start to by; step: everything leaves on `by`"
    )


class Keep(Action):
    kind: ClassVar[str] = "keep"
    summary: ClassVar[str] = "Protect forces from every withdraw, reduce and shift in the scenario (keep beats withdraw)."
    who: ISO3 = Field("USA", description="Owner of the forces kept")
    countries: Codes | None = Field(None, description="Keep everything in these nations")
    sites: Codes | None = Field(None, description="Keep everything at these sites")
    units: Codes | None = Field(None, description="Keep these force elements")
    unit_types: Codes | None = Field(None, description="Keep every element of these types")

    @model_validator(mode="after")
    def _not_empty(self) -> Keep:
        if not (self.countries or self.sites or self.units or self.unit_types):
            raise ValueError("keep needs at least one of countries, sites, units, unit_types")
        return self

    def selector(self) -> Selector:
        return Selector(countries=self.countries, sites=self.sites, units=self.units, unit_types=self.unit_types)


class Reduce(Action):
    kind: ClassVar[str] = "reduce"
    summary: ClassVar[str] = "Bring an owner's troops in one nation down to a ceiling, phased from start to by."
    who: ISO3 = Field("USA", description="Owner of the forces")
    in_: ISO3 = Field(alias="in", description="Host nation")
    to: Annotated[int, Field(strict=True, ge=0, le=MAX_TROOPS)] = Field(
        description="Troops that remain in that nation on `by`")
    start: Date | None = Field(None, description="First day of the reduction (default: scenario start)")
    by: Date = Field(description="Date by which the ceiling is reached")


class Shift(Action, MoveOptions):
    kind: ClassVar[str] = "shift"
    summary: ClassVar[str] = "Move troops within Europe from one set of places to another."
    who: ISO3 = Field("USA", description="Owner of the forces that move")
    troops: Troops = Field(description="Troops moved in all")
    from_: Selector = Field(alias="from", description="Where they come from")
    to: Selector = Field(description="Where they go: countries (each country's primary site) or sites, split evenly")
    start: Date | None = Field(None, description="First day of the move (default: scenario start)")
    by: Date = Field(description="Date by which all have arrived")


class Deploy(Action, MoveOptions):
    kind: ClassVar[str] = "deploy"
    summary: ClassVar[str] = "Send new forces of one or more nations to a place, split evenly between the nations."
    who: NationsSelector
    to: Selector = Field(description="Destination: a nation code, countries or sites")
    troops: Troops = Field(description="Troops deployed in all")
    unit_type: str = Field(description="Unit type id (e.g. mech_bde)")
    start: Date | None = Field(None, description="First day: troops ramp in from start to by in the posture timeline, and the movement engine orders them on this day (default: scenario start)")
    by: Date = Field(description="Date by which all have arrived")
    role: str | None = Field(None, description="Free text: reassurance, deterrence, training, ...")
    origin: str | None = Field(None, description="Lift node they come from (default: a home station for the unit type)")


class Alert(Action, MoveOptions):
    kind: ClassVar[str] = "alert"
    summary: ClassVar[str] = "Put forces outside Europe on notice to deploy; they are not counted as present."
    who: ISO3 = Field("USA", description="Owner of the forces on alert")
    troops: Troops = Field(description="Troops on alert")
    notice_days: Annotated[int, Field(strict=True, gt=0, le=3650)] = Field(description="Days from order to deployment")
    origin: str = Field("CONUS", description="Where the forces are: a lift node id, or free text such as CONUS (then a home station for the unit type)")
    to: Selector = Field(description="Where they would go")
    start: Date | None = Field(None, description="First day on alert (default: scenario start)")
    until: Date | None = Field(None, description="Last day on alert (default: horizon)")
    unit_type: str | None = Field(None, description="Unit type id, if known")


class Backstop(Action):
    kind: ClassVar[str] = "backstop"
    summary: ClassVar[str] = "Commit a capability in support of a nation without stationing ground troops there."
    who: ISO3 = Field("USA", description="Nation giving the backstop")
    for_: ISO3 = Field(alias="for", description="Nation supported")
    capability: Literal["air", "air_missile_defence", "isr", "lift", "tanker", "naval", "c2", "fires"] = Field(
        description="Capability category committed"
    )
    start: Date | None = Field(None, description="First day (default: scenario start)")
    until: Date | None = Field(None, description="Last day (default: horizon)")


class Backfill(Action):
    kind: ClassVar[str] = "backfill"
    summary: ClassVar[str] = (
        "European nations replace withdrawn forces like for like, in the nations they left, shared in proportion "
        "to each contributor's defence spending."
    )
    who: NationsSelector
    replace: Literal["withdrawn"] | Troops = Field(
        "withdrawn", description="'withdrawn' (everything withdrawn so far) or a number of troops"
    )
    of: ISO3 = Field("USA", description="Whose withdrawals are replaced")
    fraction: float = Field(1.0, gt=0, le=1, description="Share of the withdrawn forces replaced")
    start: Date | None = Field(None, description="First day (default: scenario start)")
    by: Date = Field(description="Date by which the replacement is complete")


class Forbid(Action):
    kind: ClassVar[str] = "forbid"
    summary: ClassVar[str] = (
        "A political limit: the owner may not have forces of these categories in these places; any action that "
        "puts them there is an error."
    )
    who: ISO3 = Field("USA", description="Owner the limit applies to")
    in_: Selector = Field(alias="in", description="Places where the forces may not be")
    categories: Annotated[
        list[Literal["manoeuvre", "fires", "air", "air_missile_defence", "isr", "lift", "tanker", "c2", "naval",
                     "support"]],
        Field(min_length=1),
    ] = Field(["manoeuvre", "fires"], description="Capability categories forbidden (default: ground combat forces)")
    start: Date | None = Field(None, description="First day (default: scenario start)")
    until: Date | None = Field(None, description="Last day (default: horizon)")


class Set(Action):
    kind: ClassVar[str] = "set"
    summary: ClassVar[str] = "Override a model parameter (see `drawdown data show parameters`)."
    path: str = Field(description="Dotted parameter path, e.g. campaign.baltic.warning_days")
    value: int | float | bool | str = Field(description="New value")


ACTIONS: dict[str, type[Action]] = {
    cls.kind: cls for cls in (Withdraw, Keep, Reduce, Shift, Deploy, Alert, Backstop, Backfill, Forbid, Set)
}


class Provenance(_Strict):
    """Where a scenario's idea comes from: outlet, title and date, never copied text."""

    outlet: str = Field(description="Publication or organisation, as printed")
    title: str = Field(description="Headline or document title (say in note if paraphrased)")
    date: Date = Field(description="Publication date")
    url: str | None = Field(None, description="Where to read it")
    note: str | None = Field(None, description="What the scenario takes from it; caveats")


Theatre = Literal["baltic", "poland", "finland", "black_sea"]
ForceList = dict[str, dict[str, Annotated[float, Field(ge=0, le=1000)]]]


class Reinforcement(_Strict):
    """A unit arriving during the campaign (a row of the reinforcement table)."""

    who: ISO3 = Field("USA", description="Nation sending it")
    unit_type: str = Field(description="Unit type id (a manoeuvre type counts; others add no power)")
    count: Annotated[float, Field(gt=0, le=1000)] = Field(1.0, description="Number of such units")
    to: ISO3 = Field(description="Nation it reinforces (it joins the axes that nation defends)")
    day: Annotated[float, Field(ge=0, le=90)] = Field(description="Days after the attack starts when it is ready on its axes")


class Contingency(_Strict):
    """A short-warning attack to test the posture against (the campaign engine)."""

    theatre: Theatre = Field(description="Theatre attacked")
    date: Date = Field(description="Day of the attack; the posture on the last phase date before it is used")
    warning_days: Annotated[float, Field(ge=0, le=365)] | None = Field(
        None, description="Days of warning (default: the parameter campaign.<theatre>.warning_days, else 7)")
    days: Annotated[int, Field(strict=True, ge=1, le=90)] = Field(28, description="Days simulated")
    defenders: ForceList | None = Field(
        None, description="Replace the posture with these defenders: {ISO3: {unit_type: count}}")
    add_defenders: ForceList | None = Field(
        None, description="Add these defenders to the posture: {ISO3: {unit_type: count}}")
    national_forces: bool = Field(True, description="Count the defending nations' standing forces (national_forces)")
    reinforcements: list[Reinforcement] = Field(
        default_factory=list, description="Units arriving during the campaign: [{who, unit_type, count, to, day}]")
    alerted_forces: bool = Field(
        False, description="Order the scenario's alerted forces bound for the theatre when warning is given; the movement engine says when each is ready")
    us_aircraft: Annotated[float, Field(ge=0, le=5000)] | None = Field(
        None, description="US combat aircraft committed to the fight (default: 24 per US fighter squadron in Europe in the posture)")
    attacker_presence: Annotated[float, Field(ge=0, le=2)] = Field(
        1.0, description="Share of the adversary's nominal order of battle actually available")
    attacker_date: Date | None = Field(None, description="Date of the adversary order of battle (default: date)")
    attackers_from: Annotated[list[Literal["RUS", "BLR"]], Field(min_length=1)] = Field(
        ["RUS", "BLR"], description="Which adversaries attack (RAND's 2016 case: RUS only)")


class CostItem(_Strict):
    """One line of a costed buy list: a number of units of a type, or of a priced equipment item."""

    unit_type: str | None = Field(None, description="Unit type id from unit_types (priced by unit_costs)")
    equipment: str | list[str] | None = Field(
        None, description="Equipment item id from equipment_costs (e.g. f35a), or a list of acceptable items: the first sets the central price, all of them the range")
    count: Annotated[float, Field(gt=0, le=1_000_000_000)] = Field(description="How many")
    note: str | None = Field(None, description="Where the count comes from")

    @model_validator(mode="after")
    def _one_kind(self) -> CostItem:
        if (self.unit_type is None) == (self.equipment is None):
            raise ValueError("give exactly one of unit_type or equipment")
        return self


class CostBlock(_Strict):
    """A costed buy list: what replacing a capability costs (the cost engine), e.g. a published study's list."""

    base_year: Annotated[int, Field(strict=True, ge=2015, le=2030)] | None = Field(
        None, description="Constant-dollar base year (default: parameter cost.base_year)")
    currency: Literal["USD", "EUR"] = Field("USD", description="Currency of the reported totals")
    life_cycle_years: Annotated[int, Field(strict=True, ge=1, le=60)] | None = Field(
        None, description="Years of running costs in the life-cycle total (default: parameter cost.life_cycle_years)")
    items: list[CostItem] = Field(default_factory=list, description="Units or equipment bought")
    personnel: Annotated[int, Field(strict=True, ge=0, le=MAX_TROOPS)] = Field(
        0, description="People paid every year on their own line: crews of equipment items, or anyone beyond the unit_type items (whose running costs already include their own personnel)")
    personnel_usd_per_troop: Annotated[float, Field(gt=0, le=1_000_000)] | None = Field(
        None, description="Yearly cost per person in base-year US$ (default: parameter cost.personnel_usd_per_troop)")
    add_us_presence: bool = Field(
        False, description="Add the US troops in Europe on the start date (from the data) to personnel: replace them one for one")
    brigade_type: str | None = Field(None, description="Report the personnel as brigades of this unit type's strength (e.g. mech_bde)")
    troops_per_brigade: Annotated[float, Field(gt=0, le=50_000)] | None = Field(
        None, description="Report the personnel as brigades of this many troops (overrides brigade_type)")
    payers: NationsSelector | None = Field(None, description="Who pays: the bill is split by GDP (default: nato_europe)")
    spending_from_pct: Annotated[float, Field(ge=0, le=20)] | None = Field(
        None, description="Payers' spending before, % of GDP (default: each payer's latest actual share)")
    spending_to_pct: Annotated[float, Field(ge=0, le=20)] | None = Field(
        None, description="Payers' spending target, % of GDP: report the yearly gap to it (e.g. 3.5)")


class RoadmapBlock(_Strict):
    """Settings of the roadmap optimiser; every field defaults to a parameter (`drawdown data show parameters`)."""

    objective: Literal["cost", "time", "shortfall"] = Field(
        "cost", description="least total cost, earliest end state, or least deterrence shortfall")
    theatres: list[Theatre] | None = Field(None, description="Theatres whose deterrence is kept (default: all)")
    hold_days: Annotated[float, Field(gt=0, le=90)] | None = Field(
        None, description="Days every objective must hold (default: parameter roadmap.hold_days)")
    probability: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        None, description="Confidence of holding (default: parameter roadmap.probability)")
    nations: NationsSelector | None = Field(None, description="Nations that may add forces (default: nato_europe)")
    opt_out: Codes | None = Field(None, description="Nations that add nothing")
    max_share: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None, description="Largest share of the added cost any one nation carries (default: parameter roadmap.max_share)")
    unit_types: Codes | None = Field(None, description="Unit types Europe may add (default: every type in force_options)")
    replace: list[Literal["air", "air_missile_defence", "fires", "naval", "tanker"]] | None = Field(
        None, description="Capabilities replaced like for like as US elements leave (default: all five)")
    budget_target_pct: Annotated[float, Field(gt=0, le=20)] | None = Field(
        None, description="Spending ceiling reached by budget_target_year, % of GDP (default: parameter)")
    budget_target_year: Annotated[int, Field(strict=True, ge=2025, le=2100)] | None = Field(
        None, description="Year the ceiling reaches its target (default: parameter roadmap.budget_target_year)")


class ScenarioHeader(_Strict):
    """Top-level fields of a scenario file (actions are validated one by one)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id: lower case, digits, - and _")
    description: str = Field("", description="One line on what the scenario is")
    provenance: list[Provenance] = Field(default_factory=list, description="Where the idea comes from")
    start: Date = Field(description="First phase date; the posture in the data valid on this date is the start")
    horizon: Date = Field(description="Last phase date")
    step: Literal["month", "quarter", "year"] = Field("quarter", description="Time between phase dates")
    contingency: Contingency | None = Field(None, description="An attack to test the posture against (campaign)")
    roadmap: RoadmapBlock | None = Field(None, description="Settings of the roadmap optimiser (drawdown roadmap)")
    cost: CostBlock | None = Field(None, description="A costed buy list (drawdown cost)")
    actions: list[Any] = Field(default_factory=list, description="Dated actions, applied in file order (below)")

    @field_validator("actions", mode="before")
    @classmethod
    def _actions_are_one_key_mappings(cls, value: Any) -> Any:
        if value is None:
            return []
        return value


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario language, generated from the classes above."""
    wrappers = []
    for kind, cls in ACTIONS.items():
        wrapper = create_model(  # type: ignore[call-overload]
            f"{cls.__name__}Item",
            __config__=ConfigDict(extra="forbid"),
            **{kind: (cls, Field(description=cls.summary))},
        )
        wrappers.append(wrapper)
    from typing import Union

    item = Union[tuple(wrappers)]  # type: ignore[valid-type]  # noqa: UP007
    document = create_model(  # type: ignore[call-overload]
        "Scenario",
        __config__=ConfigDict(extra="forbid"),
        __doc__="A drawdown scenario: a posture change as dated actions.",
        **{
            name: (field.annotation, field)
            for name, field in ScenarioHeader.model_fields.items()
            if name != "actions"
        },
        actions=(list[item], Field(default_factory=list, description="Dated actions, applied in file order")),
    )
    schema = document.model_json_schema(by_alias=True)
    # a selector may also be written as a bare code or a list of codes (shorthand for countries)
    selector = schema["$defs"]["Selector"]
    schema["$defs"]["Selector"] = {
        "title": "Selector",
        "description": selector.get("description", ""),
        "anyOf": [
            {"type": "string", "description": "one country code"},
            {"type": "array", "items": {"type": "string"}, "description": "country codes"},
            {k: v for k, v in selector.items() if k not in ("title", "description")},
        ],
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "drawdown scenario"
    return schema
