"""Command line: parse arguments, call the library, render with Rich. No computation lives here.

Every user error exits with status 2 and a ``FILE:LINE:COL: message`` line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from drawdown import __version__
from drawdown.data import Dataset, load_dataset
from drawdown.errors import DrawdownError
from drawdown.runner import run_scenario
from drawdown.scenario import RunResult, load_scenario
from drawdown.scenario.model import json_schema
from drawdown.store import Store

app = typer.Typer(help="drawdown: plan and stress-test changes to the military posture in Europe.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
runs_app = typer.Typer(help="Browse and export runs in the results store.", no_args_is_help=True)
data_app = typer.Typer(help="Inspect and validate the bundled data.", no_args_is_help=True)


class _DefaultRun(TyperGroup):
    """A group whose first argument, if it is not one of its commands, goes to its ``run`` command, so that
    ``drawdown campaign FILE`` and ``drawdown campaign require FILE`` both work."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


campaign_app = typer.Typer(cls=_DefaultRun, no_args_is_help=True,
                           help="Monte Carlo campaign: `campaign FILE` runs it; `campaign require FILE` sizes the force that holds.")
app.add_typer(campaign_app, name="campaign")
app.add_typer(runs_app, name="runs")
app.add_typer(data_app, name="data")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

StoreOption = Annotated[Path | None, typer.Option("--store", help="Results store file (default: user data dir, or $DRAWDOWN_STORE).")]
DataOption = Annotated[Path | None, typer.Option("--data", help="Data directory with catalogue.yaml (default: bundled, or $DRAWDOWN_DATA).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else there.")]


def user_errors(func: F) -> F:
    """Turn DrawdownError into a located message on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DrawdownError as exc:
            for problem in exc.problems:
                err.print(f"[bold red]error[/]: {escape(str(problem))}", markup=True, highlight=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _print_json(document: Any) -> None:
    """Strict JSON on stdout: NaN, NaT and NA become null (json.dumps would write the invalid token NaN)."""
    sys.stdout.write(json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _version(value: bool) -> None:
    if value:
        out.print(f"drawdown {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Show the version and exit.")] = False) -> None:
    """drawdown: a scenario file in, a phased posture with its consequences out."""


# ---------------------------------------------------------------------------------------------- scenarios
@app.command()
@user_errors
def validate(files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
             data_dir: DataOption = None) -> None:
    """Check scenario files against the language and the data; report every problem at FILE:LINE:COL."""
    data = load_dataset(data_dir)
    problems = []
    for path in files:
        try:
            scenario = load_scenario(path)
            timeline = scenario.timeline(data)
        except DrawdownError as exc:
            problems.extend(exc.problems)
            continue
        for warning in timeline.warnings:
            err.print(f"[yellow]warning[/]: {warning}", highlight=False)
        out.print(f"[green]ok[/] {path} ({scenario.name}: {len(scenario.parsed.actions)} actions, "
                  f"{len(timeline.dates)} phases)", highlight=False)
    if problems:
        raise DrawdownError(problems)


@app.command()
@user_errors
def run(files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
        json_out: JsonOption = False,
        store_path: StoreOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the runs.")] = False,
        seed: Annotated[int, typer.Option(help="Random seed, recorded with the run.")] = 0,
        data_dir: DataOption = None) -> None:
    """Run scenarios: posture timeline and force balance, recorded in the results store."""
    data = load_dataset(data_dir)
    scenarios = [load_scenario(path) for path in files]
    problems = []
    for scenario in scenarios:  # check every file before running any, so a bad one stores nothing
        try:
            scenario.timeline(data)
        except DrawdownError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DrawdownError(problems)
    store = None if no_store else Store(store_path)
    results: list[RunResult] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=len(scenarios) < 2) as progress:
        task = progress.add_task("running scenarios", total=len(scenarios))
        for scenario in scenarios:
            progress.update(task, description=f"running {scenario.name}")
            results.append(run_scenario(scenario, data, seed=seed, store=store))
            progress.advance(task)
    if json_out:
        _print_json({"drawdown": __version__, "data_version": data.version,
                     "store": str(store.path) if store else None,
                     "runs": [r.to_dict() for r in results]})
        return
    for result in results:
        _render_result(result)
    if store:
        out.print(f"\nResults stored in [bold]{store.path}[/] (see `drawdown runs list`).", highlight=False)


def _phase_columns(dates: list[dt.date], limit: int = 8) -> list[int]:
    if len(dates) <= limit:
        return list(range(len(dates)))
    step = (len(dates) - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def _render_result(result: RunResult) -> None:
    frame = result.to_frame()
    dates = result.timeline.dates
    columns = _phase_columns(dates, limit=max(3, min(8, (out.width - 10) // 12)))
    title = f"{result.name}: US troops by country" + (f"  (run {result.run_id})" if result.run_id else "")
    table = Table(title=title, title_justify="left", show_footer=True)
    table.add_column("country", footer="total")
    for i in columns:
        table.add_column(dates[i].isoformat(), justify="right", footer=f"{int(frame.iloc[i].sum()):,}")
    order = frame.iloc[0].sort_values(ascending=False).index.tolist()
    order += [c for c in frame.columns if c not in order]
    for country in order:
        values = [int(frame.iloc[i][country]) for i in columns]
        if any(values):
            table.add_row(country, *[f"{v:,}" if v else "–" for v in values])
    out.print(table)
    withdrawn = result.balance.withdrawn_totals()
    moved = {k: v for k, v in withdrawn.items() if v}
    if moved:
        out.print("US withdrawn by capability: " + ", ".join(f"{k} {v:,}" for k, v in moved.items()), highlight=False)
    for line in result.other_changes():
        out.print(line, highlight=False)
    for warning in result.warnings:
        err.print(f"[yellow]warning[/]: {warning}", highlight=False)


@campaign_app.command("run")
@user_errors
def campaign(file: Annotated[Path, typer.Argument(help="Scenario YAML with a contingency block.")],
             samples: Annotated[int, typer.Option(min=100, max=10_000_000, help="Monte Carlo samples.")] = 10_000,
             seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
             days: Annotated[int | None, typer.Option(min=1, max=90, help="Days simulated (default: the scenario's).")] = None,
             require_hold_days: Annotated[float | None, typer.Option("--require-hold-days", min=0.1, max=90, help="Also find the smallest reinforcement that holds this many days (searched on at most 4,000 samples).")] = None,
             probability: Annotated[float, typer.Option(min=0.01, max=0.999, help="Confidence for --require-hold-days.")] = 0.9,
             unit_type: Annotated[str, typer.Option(help="Unit type added by --require-hold-days.")] = "armd_bn",
             backend: Annotated[str, typer.Option(help="auto (Numba if installed), numpy or numba; same results.")] = "auto",
             json_out: JsonOption = False, store_path: StoreOption = None,
             no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
             data_dir: DataOption = None) -> None:
    """Monte Carlo campaign: how long the objectives hold against a short-warning attack."""
    from drawdown.runner import run_campaign

    data = load_dataset(data_dir)
    scenario = load_scenario(file)
    require = None
    if require_hold_days is not None:
        require = {"hold_days": require_hold_days, "probability": probability, "unit_type": unit_type}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=samples < 50_000) as progress:
        task = progress.add_task("sampling", total=samples)
        document = run_campaign(scenario, data, samples=samples, seed=seed, days=days, require=require,
                                progress=lambda n: progress.advance(task, n), backend=backend,
                                store=None if no_store else Store(store_path))
    if json_out:
        _print_json(document)
        return
    table = Table(title=f"{document['scenario']}: {document['theatre']} on {document['date']} "
                        f"({document['samples']:,} samples, seed {document['seed']}, {document['warning_days']:g} days' warning)",
                  title_justify="left")
    days_shown = [d for d in ("1", "3", "7", "14", "28")
                  if any(d in probs for probs in document["prob_objective_by_day"].values())]
    table.add_column("objective", no_wrap=True)
    table.add_column("hours p10/p50/p90", justify="right", no_wrap=True)
    for day in days_shown:
        table.add_column(f"P ≤{day}d", justify="right", no_wrap=True)
    for objective, hours in document["time_to_objective_hours"].items():
        probs = document["prob_objective_by_day"][objective]
        fmt = lambda v: "holds" if v is None else f"{v:g}"  # noqa: E731
        table.add_row(objective, "/".join(fmt(hours[k]) for k in ("p10", "p50", "p90")),
                      *[f"{probs[d]:.2f}" for d in days_shown])
    out.print(table)
    out.print("P ≤Nd: probability the objective has fallen by day N", highlight=False)
    out.print("defenders (bn-eq): " + ", ".join(f"{c} {v:.1f}" for c, v in document["defenders_bn_eq_by_country"].items())
              + f"; attackers: {document['attacker_bn_eq']:.1f} bn-eq from {document['attacker_units']:g} units",
              highlight=False)
    if "requirement" in document:
        _print_requirement(document["requirement"])


def _print_requirement(req: dict[str, Any]) -> None:
    need = "more than 400" if req["additional_units"] is None else f"{req['additional_units']}"
    out.print(f"to hold {req['hold_days']:g} days with probability {req['probability']:.0%}: {need} more "
              f"{req['unit_type']} spread over the axes", highlight=False)


@campaign_app.command("require")
@user_errors
def campaign_require(file: Annotated[Path, typer.Argument(help="Scenario YAML with a contingency block.")],
                     hold_days: Annotated[float, typer.Option(min=0.1, max=90, help="Days every objective must hold.")] = 7.0,
                     probability: Annotated[float, typer.Option(min=0.01, max=0.999, help="Share of samples in which they must hold.")] = 0.9,
                     unit_type: Annotated[str, typer.Option(help="Manoeuvre unit type added, spread over the axes by the weight of attack.")] = "armd_bn",
                     samples: Annotated[int, typer.Option(min=100, max=100_000, help="Monte Carlo samples per candidate (common random numbers).")] = 4000,
                     seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
                     backend: Annotated[str, typer.Option(help="auto, numpy or numba.")] = "auto",
                     json_out: JsonOption = False, store_path: StoreOption = None,
                     no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
                     data_dir: DataOption = None) -> None:
    """The smallest reinforcement (in units of one type) that holds every objective for D days with probability p."""
    from drawdown.runner import run_campaign

    data = load_dataset(data_dir)
    scenario = load_scenario(file)
    require = {"hold_days": hold_days, "probability": probability, "unit_type": unit_type}
    document = run_campaign(scenario, data, samples=samples, seed=seed, require=require, backend=backend,
                            store=None if no_store else Store(store_path))
    if json_out:
        _print_json(document)
        return
    _print_requirement(document["requirement"])


@app.command()
@user_errors
def move(file: Annotated[Path, typer.Argument(help="Scenario YAML with deploy, alert, shift, withdraw or reduce actions.")],
         samples: Annotated[int, typer.Option(min=1, max=100_000, help="Monte Carlo samples of the uncertain lift figures (1 = planning values only).")] = 1,
         seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
         json_out: JsonOption = False, store_path: StoreOption = None,
         no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
         data_dir: DataOption = None) -> None:
    """Movement: when each force of the scenario departs, arrives and is ready, and what holds it up."""
    from drawdown.runner import run_movement

    data = load_dataset(data_dir)
    scenario = load_scenario(file)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=samples < 20) as progress:
        task = progress.add_task("simulating", total=samples + (1 if samples > 1 else 0))
        document = run_movement(scenario, data, samples=samples, seed=seed,
                                progress=lambda n: progress.advance(task, n),
                                store=None if no_store else Store(store_path))
    if json_out:
        _print_json(document)
        return
    table = Table(title=f"{document['scenario']}: {len(document['movements'])} movements"
                        + (f" ({samples:,} samples, seed {seed})" if samples > 1 else " (planning values)"),
                  title_justify="left")
    any_late = any(m.get("late_days") for m in document["movements"])
    table.add_column("force", ratio=3)
    table.add_column("people", justify="right", no_wrap=True)
    table.add_column("modes", ratio=1)
    table.add_column("start", no_wrap=True)
    table.add_column("closure d" + ("\np10/50/90" if samples > 1 else ""), justify="right", no_wrap=True)
    if any_late:
        table.add_column("late d", justify="right", no_wrap=True)
    table.add_column("bottleneck", ratio=2)
    for m in document["movements"]:
        if isinstance(m["closure_days"], dict):
            q = m["closure_days"]
            closure = "/".join("–" if q[k] is None else f"{q[k]:.0f}" for k in ("p10", "p50", "p90"))
        elif m["closure_days"] is None:
            closure = "stuck" if m["stuck"] else "not ready"
        else:
            closure = f"{m['closure_days']:.1f}"
        late = ["" if not m.get("late_days") else f"{m['late_days']:.1f}"] if any_late else []
        table.add_row(m["force"], f"{m['personnel']:,}", " ".join(m["modes"]), (m["start"] or "")[2:10], closure,
                      *late, m["bottleneck"])
    out.print(table)
    if samples > 1:
        out.print("closure: days from order to ready, p10/p50/p90 over the samples", highlight=False)
    if any_late:
        out.print("late: days after the action's `by` date", highlight=False)
    use = Table(title="lift and ports used", title_justify="left", box=None, pad_edge=False)
    for name in ("resource", "capacity", "peak", "utilisation"):
        use.add_column(name, justify="left" if name == "resource" else "right")
    for name, u in document["utilisation"].items():
        use.add_row(name, str(u["capacity"]), str(u["peak"]), f"{u['utilisation']:.0%}")
    out.print(use)


@app.command()
@user_errors
def roadmap(file: Annotated[Path, typer.Argument(help="Scenario YAML whose withdraw/reduce/keep actions set the end state.")],
            objective: Annotated[str | None, typer.Option(help="cost (least total cost), time (earliest end state) or shortfall (least deterrence shortfall); default: the scenario's roadmap block, else cost.")] = None,
            solver: Annotated[str, typer.Option(help="highs (default) or cbc (needs a cbc binary on PATH).")] = "highs",
            seed: Annotated[int, typer.Option(help="Random seed of the campaign requirement search.")] = 0,
            what_ifs: Annotated[int, typer.Option("--what-ifs", min=0, max=10, help="Counterfactual re-solves: ease each of the N most binding limits by one unit and report what changes (0 = none).")] = 3,
            json_out: JsonOption = False, store_path: StoreOption = None,
            no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
            data_dir: DataOption = None) -> None:
    """Roadmap: when each US force element leaves and what Europe adds, phase by phase, at least cost (or
    earliest, or with least shortfall), never below the deterrence requirement; with the bill per nation."""
    from drawdown.runner import run_roadmap

    if objective is not None and objective not in ("cost", "time", "shortfall"):
        raise DrawdownError.single(f"unknown objective '{objective}'", field="--objective",
                                   suggestion="choose cost, time or shortfall")
    if solver not in ("highs", "cbc"):
        raise DrawdownError.single(f"unknown solver '{solver}'", field="--solver", suggestion="choose highs or cbc")
    data = load_dataset(data_dir)
    scenario = load_scenario(file)
    with err.status("sizing the deterrence requirement and solving the roadmap", spinner="dots") if not json_out \
            else contextlib.nullcontext():
        document = run_roadmap(scenario, data, objective=objective, seed=seed, solver=solver, what_ifs=what_ifs,
                               store=None if no_store else Store(store_path))
    if json_out:
        _print_json(document)
        return
    _render_roadmap(document)


def _render_roadmap(d: dict[str, Any]) -> None:
    gap = "" if d["gap"] is None else f", gap {d['gap']:.2%}"
    out.print(f"[bold]{d['scenario']}[/]: objective {d['objective']}, {d['solver']} {d['status']} in "
              f"{d['solve_seconds']:.1f} s{gap}", highlight=False)
    if not d["feasible"]:
        if d["status"] == "time_limit":
            out.print("[bold red]No roadmap found within the time limit.[/]", highlight=False)
        else:
            out.print("[bold red]No roadmap meets every constraint.[/] What conflicts:", highlight=False)
        for c in d["conflicts"]:
            out.print(f"  - {c['text']}", highlight=False)
        if d["status"] != "time_limit":
            out.print("Try: a later end-state date, `roadmap: {objective: shortfall}`, fewer capabilities in "
                      "`roadmap.replace`, or a higher budget ceiling.", highlight=False)
        return
    table = Table(title="roadmap (field: units European nations bring into service, decided years earlier)",
                  title_justify="left")
    for name, justify in (("date", "left"), ("action", "left"), ("who", "left"), ("what", "left"),
                          ("people", "right"), ("US$ m", "right")):
        table.add_column(name, justify=justify, no_wrap=name != "what", ratio=1 if name == "what" else None)
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in d["roadmap"]:
        if r["action"] == "withdraw":
            table.add_row(r["date"], "withdraw", f"USA {r['country']}",
                          f"{r['element'].removeprefix('usa_')} ({r['unit_type']})", f"{r['personnel']:,}", "")
            continue
        key = (r["date"], r["unit_type"], r["decide_by"])
        g = grouped.setdefault(key, {"nations": 0, "people": 0, "units": 0.0, "cost": 0.0})
        g["nations"] += 1
        g["people"] += r["personnel"]
        g["units"] += r["units"]
        g["cost"] += r["cost_usd_m"]
    for (date, unit_type, decide), g in sorted(grouped.items()):
        table.add_row(date, "field", f"{g['nations']} nations", f"{g['units']:.2f} {unit_type} (decide by {decide})",
                      f"{g['people']:,}", f"{g['cost']:,.0f}")
    out.print(table)
    det = Table(title="deterrence (battalion-equivalents)", title_justify="left", box=None, pad_edge=False)
    for name in ("theatre", "required", "present at start", "lowest present", "at end"):
        det.add_column(name, justify="left" if name == "theatre" else "right")
    for t in d["requirement"]:
        present = [ph["deterrence"][t]["present"] for ph in d["phases"]]
        det.add_row(t, f"{d['requirement'][t]['required_bn_eq_at_start']:.1f}", f"{present[0]:.1f}",
                    f"{min(present):.1f}", f"{present[-1]:.1f}")
    out.print(det)
    cost = d["cost_usd"]
    top = sorted(cost["by_nation_m"].items(), key=lambda kv: -kv[1])[:8]
    if top:
        out.print(f"added cost over the horizon: US$ {cost['total_m']:,.0f} m; largest shares: "
                  + ", ".join(f"{n} {v:,.0f}" for n, v in top), highlight=False)
    else:
        out.print("no European additions needed", highlight=False)
    obj = d["objectives"]
    end = f"last US departure {d['end_state']}" if d["end_state"] else "no US element leaves"
    out.print(f"US troop-years in Europe over the horizon: {obj['troop_years']:,.0f}; deterrence shortfall: "
              f"{obj['shortfall_bn_eq_years']:,.1f} battalion-equivalent-years; {end}", highlight=False)
    if d["settings"].get("at_ceiling"):
        out.print("add nothing (already at or above the spending ceiling): " + ", ".join(d["settings"]["at_ceiling"]),
                  highlight=False)
    if d["binding_constraints"]:
        out.print("[bold]what binds[/]", highlight=False)
        for b in d["binding_constraints"][:6]:
            out.print(f"  - {b['text']}", highlight=False)
    if d.get("what_if"):
        out.print("[bold]what if[/]", highlight=False)
        for w in d["what_if"]:
            out.print(f"  - {w['text']}", highlight=False)


@app.command()
@user_errors
def cost(file: Annotated[Path, typer.Argument(help="Scenario YAML (a `cost:` buy list, and/or deploy/backfill actions).")],
         json_out: JsonOption = False, store_path: StoreOption = None,
         no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
         data_dir: DataOption = None) -> None:
    """Cost: what the scenario's buy list and the European forces its actions add cost, in constant US$,
    per nation and year against the 2 % and 3.5 % of GDP lines."""
    from drawdown.runner import run_cost

    data = load_dataset(data_dir)
    document = run_cost(load_scenario(file), data, store=None if no_store else Store(store_path))
    if json_out:
        _print_json(document)
        return
    out.print(f"[bold]{document['scenario']}[/]: constant {document['base_year']} US$", highlight=False)
    buy = document.get("buylist")
    if buy:
        table = Table(title=f"buy list ({buy['life_cycle_years']}-year life cycle)", title_justify="left")
        for name in ("item", "count", "acquisition US$ m (low-high)", "yearly US$ m"):
            table.add_column(name, justify="left" if name == "item" else "right")
        for item in buy["items"]:
            a = item["acquisition_usd_m"]
            table.add_row(f"{item['id']}", f"{item['count']:,.4g}", f"{a['mid']:,.0f} ({a['low']:,.0f}-{a['high']:,.0f})",
                          f"{item['annual_usd_m']['mid']:,.0f}")
        if buy["personnel"]:
            table.add_row(f"personnel (US$ {buy['personnel_usd_per_troop']:,.0f} each)", f"{buy['personnel']:,}", "",
                          f"{buy['personnel_annual_usd_m']:,.0f}")
        out.print(table)
        a, y, life = buy["acquisition_usd_m"], buy["annual_usd_m"], buy["life_cycle_usd_m"]
        out.print(f"acquisition US$ {a['mid'] / 1000:,.1f} bn (range {a['low'] / 1000:,.1f}-{a['high'] / 1000:,.1f}); "
                  f"yearly US$ {y['mid'] / 1000:,.1f} bn; life cycle US$ {life['mid'] / 1000:,.0f} bn "
                  f"({life['low'] / 1000:,.0f}-{life['high'] / 1000:,.0f})", highlight=False)
        if "brigades" in buy:
            out.print(f"personnel as brigades: {buy['brigades']:,.1f}", highlight=False)
        if "spending_gap" in buy:
            g = buy["spending_gap"]
            out.print(f"spending gap to {g['to_pct']} % of GDP: US$ {g['annual_usd_m'] / 1000:,.0f} bn a year "
                      f"(EUR {g['annual_eur_m'] / 1000:,.0f} bn)", highlight=False)
    adds = document.get("additions")
    if adds:
        table = Table(title="European additions by the scenario's actions (US$ m a year)", title_justify="left")
        years = sorted({y for v in adds["by_nation_year"].values() for y in v})
        table.add_column("nation")
        for y in years:
            table.add_column(y, justify="right")
        for nation, by_year in sorted(adds["by_nation_year"].items(), key=lambda kv: -sum(v["total_usd_m"] for v in kv[1].values()))[:12]:
            table.add_row(nation, *[f"{by_year[y]['total_usd_m']:,.0f}" if y in by_year else "" for y in years])
        out.print(table)
        out.print(f"total over the horizon: US$ {adds['total_usd_m']:,.0f} m", highlight=False)
    if document.get("unpriced_unit_types"):
        out.print("not costed (no price in unit_costs): " + ", ".join(document["unpriced_unit_types"]), highlight=False)
    if not buy and not adds:
        out.print("nothing priced: the scenario has no `cost:` block and adds no priced European forces",
                  highlight=False)


@app.command()
@user_errors
def sweep(spec_file: Annotated[Path, typer.Argument(help="Sweep spec YAML (base scenario, parameters, engine, outputs).")],
          address: Annotated[str | None, typer.Option(help="Join a running Ray cluster: 'auto' or ray://host:port (default: start a local Ray).")] = None,
          workers: Annotated[int | None, typer.Option(min=1, max=1024, help="CPUs for the local Ray instance (default: all).")] = None,
          local: Annotated[bool, typer.Option("--local", help="Run in this process, point after point, without Ray.")] = False,
          json_out: JsonOption = False, store_path: StoreOption = None, data_dir: DataOption = None) -> None:
    """Sweep: run an engine over many points of varied inputs (grid, Latin hypercube or Sobol'), on Ray;
    results stream into the store, and running the same spec again resumes where it stopped."""
    from drawdown.sweep import load_spec, run_sweep

    spec = load_spec(spec_file)
    data = load_dataset(data_dir)
    store = Store(store_path)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=json_out) as progress:
        task = progress.add_task(f"sweep {spec.model.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, total=total)
            progress.advance(task, done)

        summary = run_sweep(spec, data, store, address=address, workers=workers, local=local,
                            data_dir=str(data_dir) if data_dir else None, progress=advance)
    if json_out:
        _print_json(summary)
        return
    out.print(f"[bold]{summary['sweep_id']}[/]: {summary['points']} points ({summary['method']}, "
              f"{summary['engine']}), {summary['ran_now']} run now ({summary['mode']}), "
              f"{summary['resumed_from']} already stored; {summary['seconds']:.1f} s", highlight=False)
    table = Table(title="outputs over the points", title_justify="left", box=None, pad_edge=False)
    for name in ("output", "p10", "p50", "p90", "missing"):
        table.add_column(name, justify="left" if name == "output" else "right")
    for path, o in summary["outputs"].items():
        table.add_row(path, *("–" if o[k] is None else f"{o[k]:g}" for k in ("p10", "p50", "p90")), str(o["missing"]))
    out.print(table)
    out.print(f"next: drawdown sensitivity {summary['sweep_id']}", highlight=False)


@app.command()
@user_errors
def sensitivity(run_id: Annotated[str, typer.Argument(help="Sweep run id (drawdown runs list), or the sweep's spec file.")],
                json_out: JsonOption = False, store_path: StoreOption = None, data_dir: DataOption = None) -> None:
    """Sensitivity: which inputs of a sweep drive each output (Sobol' indices, or rank correlations), with a
    tornado and a sentence per output."""
    from drawdown.runner import run_sensitivity

    document = run_sensitivity(Store(store_path), run_id, load_dataset(data_dir))
    if json_out:
        _print_json(document)
        return
    out.print("S1, ST: first- and total-order Sobol' indices; rho: rank correlation; low → high: mean output over "
              "the lowest and highest fifth of the input's range", highlight=False)
    if not document["complete"]:
        out.print(f"[yellow]the sweep is not complete ({document['points']} points stored): resume it with "
                  "drawdown sweep SPEC[/]", highlight=False)
    for output, entry in document["outputs"].items():
        out.print(f"[bold]{entry['text']}[/]", highlight=False)
        table = Table(box=None, pad_edge=False)
        table.add_column("input", overflow="fold")
        for name in ("S1", "ST", "rho"):
            table.add_column(name, justify="right", no_wrap=True, min_width=5)
        table.add_column("low → high", justify="right", no_wrap=True, min_width=13)
        table.add_column("swing", no_wrap=True, min_width=12)
        for p in entry["ranking"]:
            item = entry["inputs"][p]
            t = item.get("tornado")
            table.add_row(p, _num(item.get("first_order")), _num(item.get("total_order")), _num(item.get("spearman")),
                          "" if not t else f"{t['output_at_low']:.3g} → {t['output_at_high']:.3g}",
                          "" if not t else _bar(t, entry))
        out.print(table)


def _num(value: Any) -> str:
    return "" if value is None else f"{value:+.2f}"


def _bar(tornado: dict[str, float], entry: dict[str, Any]) -> str:
    """A text tornado bar: its length is the output's swing across the input's range, relative to the largest."""
    swings = [abs(i["tornado"]["output_at_high"] - i["tornado"]["output_at_low"]) for i in entry["inputs"].values()
              if i.get("tornado")]
    swing = abs(tornado["output_at_high"] - tornado["output_at_low"])
    return "█" * max(1, round(12 * swing / max(swings))) if swings and max(swings) > 0 else ""


@app.command()
@user_errors
def report(target: Annotated[str, typer.Argument(help="Scenario YAML file, or a run id from the store.")],
           output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path("report.html"),
           samples: Annotated[int, typer.Option(min=100, max=1_000_000, help="Campaign samples when it is run.")] = 5000,
           store_path: StoreOption = None, data_dir: DataOption = None) -> None:
    """Report: one self-contained HTML file (no network when opened): map by phase, troops, roadmap, deterrence,
    who pays, campaign and movement charts, and every assumption and source used."""
    from drawdown.runner import build_report_document

    data = load_dataset(data_dir)
    with err.status("building the report", spinner="dots") as status:
        page = build_report_document(target, data, store=Store(store_path), samples=samples,
                                     progress=lambda name: status.update(f"building the report: {name}"))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(output)  # never leave half a report behind
    except OSError as exc:
        raise DrawdownError.single(f"cannot write the report: {exc.strerror}", field=str(output)) from None
    out.print(f"report written to {output.resolve()} ({output.stat().st_size / 1e6:.1f} MB)", highlight=False)


@app.command()
@user_errors
def serve(host: Annotated[str, typer.Option(help="Address to listen on (loopback by default: the dashboard has no login).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
          store_path: StoreOption = None,
          scenarios: Annotated[Path, typer.Option("--scenarios", help="Folder of scenario files the dashboard lists and saves to.")] = Path("scenarios")) -> None:
    """Dashboard: a local web page to edit and validate scenarios, run engines with progress, browse and compare
    runs, see the report with its map, and download it."""
    try:
        import uvicorn

        from drawdown.web import create_app
    except ImportError:
        raise DrawdownError.single("the dashboard needs FastAPI and uvicorn",
                                   suggestion="pip install 'drawdown[web]'") from None
    if not scenarios.is_dir():
        raise DrawdownError.single(f"no scenario folder at {scenarios}", suggestion="pass --scenarios DIR")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: listening on {host}: anyone who can reach it can run scenarios (there is no login)")
    out.print(f"drawdown dashboard on http://{host}:{port}/ (Ctrl-C to stop)", highlight=False)
    hosts = ["127.0.0.1", "localhost", "::1", "[::1]"] + ([host] if host not in ("127.0.0.1", "localhost", "::1") else [])
    uvicorn.run(create_app(store_path, scenarios, allowed_hosts=hosts), host=host, port=port, log_level="warning")


@app.command()
def schema(markdown: Annotated[bool, typer.Option("--markdown", help="Print the language reference as Markdown instead.")] = False) -> None:
    """Print the JSON Schema of the scenario language (or its Markdown reference)."""
    if markdown:
        from drawdown.scenario.docs import scenario_language_markdown

        sys.stdout.write(scenario_language_markdown())
        return
    _print_json(json_schema())


# ---------------------------------------------------------------------------------------------- runs
@runs_app.command("list")
@user_errors
def runs_list(store_path: StoreOption = None, json_out: JsonOption = False) -> None:
    """List runs with their status."""
    store = Store(store_path)
    frame = store.list_runs()
    if json_out:
        _print_json(frame.to_dict("records"))
        return
    table = Table(title=f"runs in {store.path}", title_justify="left", box=None, pad_edge=False)
    table.add_column("run_id", no_wrap=True)
    table.add_column("scenario", overflow="fold")
    table.add_column("engine", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("seed", justify="right")
    table.add_column("data", overflow="fold")
    for row in frame.itertuples():
        colour = {"complete": "green", "failed": "red", "interrupted": "yellow"}.get(row.status, "white")
        table.add_row(row.run_id, row.scenario, str(row.engine), f"[{colour}]{row.status}[/]", str(row.started_at)[:16],
                      str(row.seed), str(row.data_version).split("+")[-1])
    out.print(table)


@runs_app.command("show")
@user_errors
def runs_show(run_id: str, store_path: StoreOption = None, json_out: JsonOption = False) -> None:
    """Show one run: what produced it and its summary."""
    record = Store(store_path).get_run(run_id)
    if json_out:
        _print_json(record)
        return
    for key in ("run_id", "scenario", "status", "scenario_path", "scenario_sha256", "data_version", "code_version",
                "seed", "started_at", "finished_at", "error"):
        if record.get(key) is not None and not (isinstance(record.get(key), float) and pd.isna(record[key])):
            out.print(f"[bold]{key}[/]: {record[key]}", highlight=False)
    out.print(f"[bold]engine[/]: {record.get('engine')}", highlight=False)
    document = record.get("document")
    if document and document.get("phases") and "us_troops_total" in document["phases"][0]:
        first, last = document["phases"][0], document["phases"][-1]
        out.print(f"US troops: {first['us_troops_total']:,} on {first['date']} → {last['us_troops_total']:,} on "
                  f"{last['date']}", highlight=False)
    elif document:
        keys = ", ".join(sorted(document)[:12])
        out.print(f"summary fields: {keys} (see --json)", highlight=False)


@runs_app.command("export")
@user_errors
def runs_export(run_id: str,
                parquet: Annotated[Path, typer.Option("--parquet", help="Directory to write Parquet files into.")],
                store_path: StoreOption = None) -> None:
    """Export a run's tables as Parquet."""
    for path in Store(store_path).export(run_id, parquet):
        out.print(f"wrote {path}", highlight=False)


# ---------------------------------------------------------------------------------------------- data
@data_app.command("validate")
@user_errors
def data_validate(data_dir: DataOption = None) -> None:
    """Check every table against the catalogue, references, sources and country totals."""
    data = load_dataset(data_dir, strict=False)
    if data.problems:
        raise DrawdownError(list(data.problems))
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in data.tables.items())
    out.print(f"[green]ok[/] data {data.version} ({counts})", highlight=False)


@data_app.command("docs")
@user_errors
def data_docs(data_dir: DataOption = None) -> None:
    """Print the data reference (docs/data.md) generated from the catalogue."""
    from drawdown.data.docs import data_markdown

    sys.stdout.write(data_markdown(load_dataset(data_dir)))


@data_app.command("coverage")
@user_errors
def data_coverage(json_out: JsonOption = False, data_dir: DataOption = None) -> None:
    """What the data covers: equipment in service by nation and class, and how much rests on assumptions."""
    data = load_dataset(data_dir)
    coverage = data.coverage()
    grid, assumptions = coverage["equipment"], coverage["assumptions"]
    if json_out:
        _print_json({"equipment_active": {iso3: {c: v for c, v in row.items() if not pd.isna(v)}
                                          for iso3, row in grid.iterrows()},
                     "assumptions": assumptions.to_dict("records")})
        return
    short = {c: "".join(part[:3] for part in c.split("_"))[:7] for c in grid.columns}
    table = Table(title=f"equipment in service (chosen figures; – = no public figure found), data {data.version}",
                  title_justify="left", box=None, pad_edge=False)
    table.add_column("nation", no_wrap=True)
    for column in grid.columns:
        table.add_column(short[column], justify="right", no_wrap=True)
    for iso3, row in grid.iterrows():
        table.add_row(iso3, *["–" if pd.isna(v) else f"{v:,.0f}" for v in row])
    out.print(table)
    out.print("columns: " + ", ".join(f"{v}={k}" for k, v in short.items()), highlight=False)
    filled = int(grid.notna().sum().sum())
    out.print(f"{filled} of {grid.size} nation-class cells have a figure.", highlight=False)
    summary = Table(title="rows resting on declared assumptions", title_justify="left", box=None, pad_edge=False)
    for column in assumptions.columns:
        summary.add_column(column, justify="right" if column != "table" else "left")
    for row in assumptions.itertuples(index=False):
        summary.add_row(row.table, str(row.rows), str(row.assumption_rows), f"{row.assumption_share:.0%}")
    out.print(summary)


@data_app.command("show")
@user_errors
def data_show(table: Annotated[str, typer.Argument(help="nations, us, deployments, sites, units, groups, parameters, sources, totals")],
              country: Annotated[str | None, typer.Option(help="Only rows for this country (ISO3).")] = None,
              as_of: Annotated[str | None, typer.Option("--as-of", help="Only force elements present on this date (YYYY-MM-DD).")] = None,
              json_out: JsonOption = False,
              data_dir: DataOption = None) -> None:
    """Show a data table."""
    data = load_dataset(data_dir)
    frame = _data_frame(data, table, as_of)
    if country:
        column = "country" if "country" in frame else ("iso3" if "iso3" in frame else None)
        if column is None:
            raise DrawdownError.single(f"table '{table}' has no country column")
        frame = frame[frame[column] == country.upper()]
    if json_out:
        _print_json(frame.to_dict("records"))
        return
    rich_table = Table(title=f"{table} ({len(frame)} rows, data {data.version})", title_justify="left")
    for col in frame.columns:
        rich_table.add_column(col, overflow="fold")
    for row in frame.itertuples(index=False):
        rich_table.add_row(*["" if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else str(v) for v in row])
    out.print(rich_table)


_ALIASES = {"us": "us_forces", "units": "unit_types", "totals": "country_totals"}


def _data_frame(data: Dataset, table: str, as_of: str | None) -> pd.DataFrame:
    name = _ALIASES.get(table, table)
    frame = data.table(name)
    if as_of:
        try:
            date = dt.date.fromisoformat(as_of)
        except ValueError:
            raise DrawdownError.single(f"--as-of: '{as_of}' is not a date (YYYY-MM-DD)") from None
        if name in ("us_forces", "deployments"):
            present = set(data.forces_on(date)["id"])
            frame = frame[frame["id"].isin(present)]
    return frame.drop(columns=[c for c in frame.columns if c == "table"]).reset_index(drop=True)


@data_app.command("export")
@user_errors
def data_export(directory: Annotated[Path, typer.Argument(help="Directory to write into (created if missing).")],
                fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
                as_of: Annotated[str | None, typer.Option("--as-of", help="Only force elements present on this date.")] = None,
                data_dir: DataOption = None) -> None:
    """Export every table (typed) as Parquet or CSV, with a manifest of the data version."""
    from drawdown.data import export_tables

    data = load_dataset(data_dir)
    date = None
    if as_of:
        try:
            date = dt.date.fromisoformat(as_of)
        except ValueError:
            raise DrawdownError.single(f"--as-of: '{as_of}' is not a date (YYYY-MM-DD)") from None
    for path in export_tables(data, directory, fmt, as_of=date):
        out.print(f"wrote {path}", highlight=False)


@data_app.command("sources")
@user_errors
def data_sources(conflicts: Annotated[bool, typer.Option("--conflicts", help="Show published totals that disagree, with the chosen value.")] = False,
                 json_out: JsonOption = False, data_dir: DataOption = None) -> None:
    """List the sources behind the data (or the conflicting figures and which one is used)."""
    data = load_dataset(data_dir)
    frame = data.conflicts() if conflicts else data.sources
    if json_out:
        _print_json(frame.to_dict("records"))
        return
    rich_table = Table(title="conflicting figures (chosen first)" if conflicts else f"sources ({len(frame)})",
                       title_justify="left")
    for col in frame.columns:
        rich_table.add_column(col, overflow="fold")
    for row in frame.itertuples(index=False):
        rich_table.add_row(*["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in row])
    out.print(rich_table)


# ---------------------------------------------------------------------------------------------- evidence
evidence_app = typer.Typer(help="Evidence from the news: articles in, posture claims and a runnable scenario out.",
                           no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
ArticlesArg = Annotated[list[str], typer.Argument(help="Article files (.txt, .html), folders of them, or URLs.")]
OutletOption = Annotated[str | None, typer.Option("--outlet", help="Outlet, when the text does not say (overrides).")]
DateOption = Annotated[str | None, typer.Option("--date", help="Publication date YYYY-MM-DD, when the text does not say.")]


def _date_option(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise DrawdownError.single(f"--date: '{value}' is not a date (YYYY-MM-DD)") from None
    from drawdown.evidence.source import plausible

    if plausible(day) is None:
        raise DrawdownError.single(f"--date: {value} is outside 1945 to next year", suggestion="the publication date")
    return day


def _evidence(targets: list[str], *, check: bool, store_path: Path | None, no_store: bool, outlet: str | None,
              date: str | None, data_dir: Path | None) -> tuple[Dataset, list[Any], dict[str, Any]]:
    from drawdown.evidence import article_paths
    from drawdown.runner import run_evidence

    data = load_dataset(data_dir)
    paths = [p for t in targets for p in article_paths(t)]  # folders walked once, here, for the progress total
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=len(paths) < 3) as progress:
        task = progress.add_task("reading articles", total=len(paths))
        results, document = run_evidence(paths, data, check=check, store=None if no_store else Store(store_path),
                                         outlet=outlet, date=_date_option(date),
                                         progress=lambda _: progress.advance(task))
    return data, results, document


def _claims_table(article: dict[str, Any]) -> Table:
    meta = " · ".join(str(x) for x in (article["outlet"], article["date"], article["title"]) if x)
    table = Table(title=escape(f"{article['path']}: {meta or 'no metadata found'}"), title_justify="left")
    for name in ("#", "action", "actor", "troops", "unit", "where", "modality", "per", "chars", "check"):
        table.add_column(name, overflow="fold")
    for c in article["claims"]:
        troops = "" if c["troops"] is None else (
            f"{c['troops']:,}-{c['troops_high']:,}" if c["troops_high"] else
            f"{'' if c['qualifier'] in (None, 'exact') else c['qualifier'] + ' '}{c['troops']:,}")
        check = c.get("check")
        table.add_row(str(c["index"]), c["action"], c["actor"] or "", troops, c["unit_type"] or "", c["location"] or "",
                      c["modality"], escape(", ".join(c["attribution"][1:] if article["outlet"] else c["attribution"])),
                      f"{c['span'][0]}-{c['span'][1]}",
                      "" if not check else {"agrees": "[green]agrees[/]", "conflicts": "[red]conflicts[/]"}.get(
                          check["status"], "not covered"))
    return table


@evidence_app.command("extract")
@user_errors
def evidence_extract(targets: ArticlesArg, json_out: JsonOption = False, store_path: StoreOption = None,
                     no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the claims.")] = False,
                     outlet: OutletOption = None, date: DateOption = None, data_dir: DataOption = None) -> None:
    """Read articles and list their posture claims: who, what, how many, where, when, how sure, on whose word,
    and the character span each comes from."""
    _, _, document = _evidence(targets, check=False, store_path=store_path, no_store=no_store, outlet=outlet,
                               date=date, data_dir=data_dir)
    if json_out:
        _print_json(document)
        return
    for article in document["articles"]:
        out.print(_claims_table(article))
        if article["removed"]:
            out.print(f"  removed: {escape('; '.join(article['removed']))}", highlight=False)


@evidence_app.command("check")
@user_errors
def evidence_check(targets: ArticlesArg, json_out: JsonOption = False, store_path: StoreOption = None,
                   no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the claims.")] = False,
                   outlet: OutletOption = None, date: DateOption = None, data_dir: DataOption = None) -> None:
    """Check each claim against the data (agrees, conflicts, not covered) and the claims against each other
    (agreements and contradictions, e.g. a reported exit and a denial of it)."""
    _, _, document = _evidence(targets, check=True, store_path=store_path, no_store=no_store, outlet=outlet,
                               date=date, data_dir=data_dir)
    if json_out:
        _print_json(document)
        return
    for article in document["articles"]:
        out.print(_claims_table(article))
        for c in article["claims"]:
            if c["check"]["status"] != "not_covered":
                sources = ", ".join(c["check"]["sources"])
                out.print(escape(f"  #{c['index']} {c['check']['status']}: {c['check']['detail']}"
                                 + (f" [{sources}]" if sources else "")), highlight=False)
    paths = {a["id"]: a["path"] for a in document["articles"]}
    if document["relations"]:
        table = Table(title="between claims", title_justify="left")
        for name in ("relation", "claim", "claim", "why"):
            table.add_column(name, overflow="fold")
        for r in document["relations"]:
            table.add_row(r["kind"], escape(f"{Path(paths[r['a']['article']]).name} #{r['a']['claim']}"),
                          escape(f"{Path(paths[r['b']['article']]).name} #{r['b']['claim']}"), escape(r["reason"]))
        out.print(table)


@evidence_app.command("to-scenario")
@user_errors
def evidence_to_scenario(targets: ArticlesArg,
                         output: Annotated[Path, typer.Option("-o", "--output", help="Scenario YAML to write.")],
                         name: Annotated[str | None, typer.Option("--name", help="Scenario name (default: from the title).")] = None,
                         store_path: StoreOption = None,
                         no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the claims.")] = False,
                         outlet: OutletOption = None, date: DateOption = None, data_dir: DataOption = None) -> None:
    """Draft a scenario from the articles' claims: one action per claim that carries enough to act on, each with a
    comment naming its article and span; the file validates and runs (`drawdown run`)."""
    from drawdown.evidence import to_scenario

    data, results, _ = _evidence(targets, check=False, store_path=store_path, no_store=no_store, outlet=outlet,
                                 date=date, data_dir=data_dir)
    text = to_scenario(results, data, name=name)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    drafted = sum(1 for line in text.splitlines() if line.startswith("  - "))
    claims = sum(len(r.claims) for r in results)
    out.print(escape(f"wrote {output}: {drafted} actions from {claims} claims in {len(results)} article(s); "
                     f"run it with `drawdown run {output}`"), highlight=False)


@evidence_app.command("list")
@user_errors
def evidence_list(json_out: JsonOption = False, store_path: StoreOption = None) -> None:
    """Claims recorded in the results store, oldest article first."""
    frame = Store(store_path).claims()
    if json_out:
        _print_json(frame.to_dict("records"))
        return
    table = Table(title=f"stored claims ({len(frame)})", title_justify="left")
    for name in ("date", "outlet", "action", "actor", "troops", "where", "modality", "check"):
        table.add_column(name, overflow="fold")
    def cell(value: Any) -> str:
        return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else escape(str(value))

    for row in frame.itertuples():
        table.add_row(cell(row.date)[:10], cell(row.outlet), cell(row.action), cell(row.actor),
                      "" if pd.isna(row.troops) else f"{int(row.troops):,}", cell(row.location), cell(row.modality),
                      cell(row.check_status))
    out.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
