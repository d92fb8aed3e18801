"""``make bench``: speed and memory of drawdown's engines, written to ``bench/results.md``.

Each measurement runs in its own Python process so that its peak resident memory is its own. Benchmarks are not
tests: nothing here fails on timing. Usage::

    python -m bench.run                 # everything, writes bench/results.md
    python -m bench.run --only campaign  # one group
    python -m bench.run --case NAME      # one measurement, JSON on stdout (used internally)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
CASES: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {}


def case(group: str) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    def register(fn: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        CASES[fn.__name__] = (group, fn)
        return fn
    return register


# --- campaign -----------------------------------------------------------------------------------------------

def _baltic_axes(hold: bool) -> tuple[list, dict, float]:
    """The RAND 2016 Baltic case from the bundled scenario (terrain segments included); ``hold`` multiplies the
    defenders by 4 and switches breakpoints off so that no objective falls, no attack breaks off and every sample
    runs all 14 x 24 hourly steps (the engine's worst case)."""
    from drawdown.campaign import Axis
    from drawdown.campaign.forces import coefficients, theatre_forces
    from drawdown.data import load_dataset
    from drawdown.scenario import load_scenario

    data = load_dataset()
    scenario = load_scenario(ROOT / "scenarios" / "rand-2016-baltic.yaml")
    axes = theatre_forces(data, scenario.parsed.header.contingency, None).axes
    coefs = coefficients(data)
    if hold:
        from drawdown.campaign import Coefficient

        axes = [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq * 4, a.attackers_bn_eq, a.segments)
                for a in axes]
        # no breakpoints either: every sample must run all 336 steps for a like-for-like throughput figure
        for name in ("attacker_breakpoint_loss", "defender_breakpoint_loss"):
            coefs[name] = Coefficient(name, "fixed", 2.0, 2.0, "bench")
    return axes, coefs, 7.0


def _campaign(samples: int, hold: bool, chunk: int = 20_000, backend: str = "numpy") -> dict[str, Any]:
    import numpy as np

    from drawdown.campaign import simulate

    axes, coefs, warning = _baltic_axes(hold)
    if backend == "numba":
        from drawdown.campaign import kernels

        kernels.warm_up()  # compile (or load the on-disk cache) before timing; reported separately
    rss_before = _peak_rss_mb()
    start = time.perf_counter()
    result = simulate(axes, coefs, np.random.default_rng(0), samples=samples, days=14, warning_days=warning,
                      chunk=chunk, backend=backend)
    seconds = time.perf_counter() - start
    held = bool(np.isinf(result.time_to_objective).all())
    steps = samples * len(axes) * 14 * 24 if held else None
    return {"samples": samples, "seconds": seconds, "axes": len(axes), "chunk": chunk, "all_steps_run": held,
            "backend": backend,
            "unit_steps_per_s": steps / seconds if steps else None, "samples_per_s": samples / seconds,
            "rss_before_mb": rss_before}


@case("campaign")
def campaign_100k_hold_numba() -> dict[str, Any]:
    """Numba backend (the default when installed), 100,000 samples x 14 days hourly, every step run."""
    return _campaign(100_000, hold=True, backend="numba")


@case("campaign")
def campaign_100k_hold_numpy() -> dict[str, Any]:
    """NumPy backend (reference), 100,000 samples x 14 days hourly, Baltic axes, every step run (objectives hold)."""
    return _campaign(100_000, hold=True)


@case("campaign")
def campaign_100k_rand2016_numba() -> dict[str, Any]:
    """Numba backend, 100,000 samples, the RAND 2016 case (objectives fall in 2-3 days, so samples stop early)."""
    return _campaign(100_000, hold=False, backend="numba")


@case("campaign")
def campaign_100k_rand2016_numpy() -> dict[str, Any]:
    """NumPy backend, the RAND 2016 case (a chunk stops once every sample's objectives have fallen)."""
    return _campaign(100_000, hold=False)


@case("campaign")
def campaign_1m_hold_numba() -> dict[str, Any]:
    """Numba backend, 1,000,000 samples in chunks of 20,000: memory stays that of one chunk."""
    return _campaign(1_000_000, hold=True, backend="numba")


@case("campaign")
def campaign_100k_hold_numpy_one_chunk() -> dict[str, Any]:
    """NumPy backend, 100,000 samples as one chunk: what chunking saves in memory."""
    return _campaign(100_000, hold=True, chunk=100_000)


@case("campaign")
def campaign_baseline_per_sample() -> dict[str, Any]:
    """The per-sample pure-Python baseline (bench/baseline.py) on the hold case; extrapolated per sample."""
    import numpy as np

    from bench import baseline

    axes, coefs, warning = _baltic_axes(hold=True)
    samples = 1000
    start = time.perf_counter()
    baseline.simulate(axes, coefs, np.random.default_rng(0), samples=samples, days=14, warning_days=warning)
    seconds = time.perf_counter() - start
    steps = samples * len(axes) * 14 * 24
    return {"samples": samples, "seconds": seconds, "axes": len(axes), "samples_per_s": samples / seconds,
            "unit_steps_per_s": steps / seconds, "rss_before_mb": None}


# --- roadmap ------------------------------------------------------------------------------------------------

def _cbc_on_path() -> bool:
    """PuLP ships a CBC binary; put it on PATH so that linopy can call it (before linopy is imported)."""
    try:
        import pulp
    except ImportError:
        return False
    folder = Path(pulp.__file__).parent / "solverdir" / "cbc" / "linux" / ("arm64" if platform.machine() == "aarch64" else "i64")
    if (folder / "cbc").exists():
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    import shutil

    return shutil.which("cbc") is not None


def _roadmap(solver: str, time_limit: float) -> dict[str, Any]:
    """The full problem: every US force element in NATO Europe, quarterly phases over ten years
    (scenarios/full-exit-2035.yaml)."""
    if solver == "cbc" and not _cbc_on_path():
        return {"solver": solver, "skipped": "no cbc binary (pip install pulp)"}
    from drawdown.data import load_dataset
    from drawdown.roadmap import build_problem, check, solve
    from drawdown.roadmap.model import build_model
    from drawdown.scenario import load_scenario

    data = load_dataset()
    scenario = load_scenario(ROOT / "scenarios" / "full-exit-2035.yaml")
    start = time.perf_counter()
    problem = build_problem(scenario, data, scenario.timeline(data))
    problem.time_limit = time_limit
    inputs = time.perf_counter() - start
    builder = build_model(problem)
    size = {"variables": int(builder.m.nvars), "constraints": int(builder.m.ncons),
            "binaries": int(builder.stay.size) if builder.has_elements() else 0}
    start = time.perf_counter()
    result = solve(problem, solver=solver, prices=False)
    seconds = time.perf_counter() - start
    return {"solver": solver, "seconds": seconds, "inputs_seconds": inputs, "status": result.status,
            "feasible": result.feasible, "gap": result.gap, "objective": result.objective_value,
            "violations": len(check(problem, result.solution)) if result.solution else None,
            "elements": len(problem.elements), "nations": len(problem.nations), "phases": problem.phases,
            "time_limit": time_limit, **size}


@case("roadmap")
def roadmap_full_highs() -> dict[str, Any]:
    """HiGHS on the full problem (every US element in NATO Europe, 40 quarters, every nation and unit type that may backfill), 1 % gap, 10 s limit."""
    return _roadmap("highs", 10.0)


@case("roadmap")
def roadmap_full_cbc() -> dict[str, Any]:
    """CBC (PuLP's bundled binary, through linopy) on the same model, 1 % gap, 120 s limit."""
    return _roadmap("cbc", 120.0)


# --- sweeps ---------------------------------------------------------------------------------------------------

SWEEP_SPEC = """\
name: bench-scaling
base: {base}
engine: campaign
samples: 20000
seed: 0
method: lhs
points: 192
points_per_task: 4
parameters:
  - {{path: contingency.warning_days, low: 0, high: 14}}
  - {{path: campaign.coefficient.movement_efficiency, low: 0.2, high: 0.4}}
outputs: [time_to_objective_hours.Tallinn.p50]
"""


def _sweep(workers: int | None, local: bool) -> dict[str, Any]:
    import tempfile

    from drawdown.data import load_dataset
    from drawdown.store import Store
    from drawdown.sweep import load_spec, run_sweep

    with tempfile.TemporaryDirectory() as folder:
        spec_path = Path(folder) / "spec.yaml"
        spec_path.write_text(SWEEP_SPEC.format(base=ROOT / "scenarios" / "rand-2016-baltic.yaml"))
        spec = load_spec(spec_path)
        data = load_dataset()
        start = time.perf_counter()
        summary = run_sweep(spec, data, Store(Path(folder) / "s.duckdb"), workers=workers, local=local)
        seconds = time.perf_counter() - start
        point_seconds = [float(x) for x in Store(Path(folder) / "s.duckdb").sweep_points(summary["sweep_id"])["seconds"]]
    return {"workers": workers or 0, "mode": summary["mode"], "points": summary["points"], "seconds": seconds,
            "point_seconds_mean": sum(point_seconds) / len(point_seconds)}


@case("sweep")
def sweep_local_one_process() -> dict[str, Any]:
    """192 campaign points (20,000 samples each) in this process, one after the other (no Ray)."""
    return _sweep(None, local=True)


@case("sweep")
def sweep_ray_1_worker() -> dict[str, Any]:
    """The same 192 points on a local Ray instance with 1 CPU (tasks of 4 points), Ray start included."""
    return _sweep(1, local=False)


@case("sweep")
def sweep_ray_all_workers() -> dict[str, Any]:
    """The same 192 points on a local Ray instance with every CPU of this machine."""
    return _sweep(len(os.sched_getaffinity(0)), local=False)


@case("sweep")
def ray_overhead_per_task() -> dict[str, Any]:
    """Ray's own cost: start-up, and 2,000 empty tasks on every CPU."""
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, log_to_driver=False,
             logging_level="ERROR", configure_logging=False)
    startup = time.perf_counter() - start

    @ray.remote
    def nothing(x: int) -> int:
        return x

    ray.get([nothing.remote(i) for i in range(100)])  # warm the workers
    n = 2000
    start = time.perf_counter()
    ray.get([nothing.remote(i) for i in range(n)])
    seconds = time.perf_counter() - start
    ray.shutdown()
    return {"startup_seconds": startup, "tasks": n, "seconds": seconds, "ms_per_task": 1000 * seconds / n}


# --- harness ------------------------------------------------------------------------------------------------

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def run_case(name: str) -> dict[str, Any]:
    result = CASES[name][1]()
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


# --- evidence -----------------------------------------------------------------------------------------------

EVIDENCE = ROOT / "tests" / "evidence"
EVIDENCE_SETS = {
    # name: (annotation folder, article roots, how the set was used)
    "development": (EVIDENCE / "annotations", {"own": EVIDENCE / "articles", "seeds": ROOT.parent / "shared" / "seeds"},
                    "seeds and own articles: the rules were written against these"),
    "held-out (tuned)": (EVIDENCE / "heldout", {"heldout": EVIDENCE / "heldout"},
                         "written blind by another author; scored once, then used to improve the rules"),
    "blind": (EVIDENCE / "blind", {"blind": EVIDENCE / "blind"},
              "written blind by another author after the rules were frozen; never used to change them (later changes came from a code review, and left its score unchanged)"),
}


@case("evidence")
def evidence_quality() -> dict[str, Any]:
    """Precision and recall per field on each annotated set (drawdown.evidence.evaluate)."""
    from drawdown.data import load_dataset
    from drawdown.evidence.evaluate import evaluate, load_annotations

    data = load_dataset()
    out: dict[str, Any] = {"sets": {}}
    for name, (folder, roots, use) in EVIDENCE_SETS.items():
        golds = load_annotations(folder, roots) if folder.exists() else []
        if not golds:
            continue
        result = evaluate(golds, data)
        out["sets"][name] = {"articles": len(golds), "claims": sum(len(g.claims) for g in golds), "use": use,
                             "fields": result["fields"], "metadata": result["metadata"]}
    return out


@case("evidence")
def evidence_throughput() -> dict[str, Any]:
    """Reading speed: every annotated article read 20 times by one warm reader (pipeline built once)."""
    from drawdown.data import load_dataset
    from drawdown.evidence import extract, reader_for

    data = load_dataset()
    start = time.perf_counter()
    reader_for(data)
    build = time.perf_counter() - start
    paths = [p for folder in (EVIDENCE / "articles", EVIDENCE / "heldout", EVIDENCE / "blind") if folder.exists()
             for p in sorted(folder.iterdir()) if p.suffix in (".txt", ".html")]
    chars = sum(p.stat().st_size for p in paths)
    start = time.perf_counter()
    claims = 0
    for _ in range(20):
        claims += sum(len(r.claims) for r in extract(paths, data))
    seconds = time.perf_counter() - start
    return {"articles": len(paths) * 20, "seconds": seconds, "articles_per_s": len(paths) * 20 / seconds,
            "kchars_per_s": chars * 20 / seconds / 1000, "build_seconds": build, "claims": claims}


@case("evidence")
def evidence_hostile() -> dict[str, Any]:
    """Hostile input: a 5 MB file refused, 200,000 nested <div>s, a 1,000,000-character text of numbers and
    trigger words, a binary file; seconds each (all handled, none crashes)."""
    import tempfile

    from drawdown.data import load_dataset
    from drawdown.evidence import EvidenceError, extract, reader_for
    from drawdown.evidence.source import MAX_BYTES, MAX_CHARS

    data = load_dataset()
    reader_for(data)
    timings: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "5 MB file (refused)": ("big.txt", b"x" * (MAX_BYTES + 1)),
            "200,000 nested divs": ("nested.html", ("<html><body>" + "<div>" * 200_000 + "<p>The US will withdraw "
                                                    "3,000 troops from Poland.</p>" + "</div>" * 200_000 +
                                                    "</body></html>").encode()),
            "1,000,000 chars of triggers and numbers": ("dense.txt", ("The US will withdraw 3,000 troops from Poland "
                                                                       "and send 2,000 to Romania. ")
                                                        .encode() * (MAX_CHARS // 75)),
            "binary file (refused)": ("photo.txt", bytes(range(256)) * 4000),
        }
        for label, (name, payload) in cases.items():
            path = Path(tmp) / name
            path.write_bytes(payload)
            start = time.perf_counter()
            try:
                claims = sum(len(r.claims) for r in extract([path], data))
                outcome = f"{claims:,} claims"
            except EvidenceError as exc:
                outcome = "refused: " + str(exc).split(": ", 1)[-1][:60]
            timings[label] = {"seconds": time.perf_counter() - start, "outcome": outcome}
    return {"cases": timings}


def machine() -> dict[str, str]:
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": str(len(os.sched_getaffinity(0))), "memory": memory,
            "python": platform.python_version(), "numpy": numpy.__version__, "os": platform.platform(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value >= 1e5:
            return f"{value:.3g}"
        return f"{value:.{digits}f}"
    return str(value)


def write_markdown(results: dict[str, dict[str, Any]], path: Path) -> str:
    info = machine()
    lines = ["# Benchmark results", "",
             "Written by `make bench` (`python -m bench.run`); every case runs in its own process. Timings are "
             "wall-clock on the machine below and are not checked by CI.", "",
             "| machine | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()] + [""]
    campaign = {k: v for k, v in results.items() if CASES[k][0] == "campaign"}
    if campaign:
        lines += ["## Campaign engine (Baltic theatre, 14 days, hourly steps)", "",
                  "| case | backend | samples | chunk | seconds | samples/s | unit-steps/s | peak RSS (MB) |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in campaign.items():
            lines.append(f"| {name} | {r.get('backend', 'python')} | {r['samples']:,} | {_fmt(r.get('chunk'))} | "
                         f"{_fmt(r['seconds'])} | "
                         f"{_fmt(r['samples_per_s'], 0)} | {_fmt(r['unit_steps_per_s'])} | {_fmt(r['peak_rss_mb'], 0)} |")
        lines.append("")
        base = campaign.get("campaign_baseline_per_sample")
        for backend in ("numba", "numpy"):
            engine = campaign.get(f"campaign_100k_hold_{backend}")
            if engine and base:
                speedup = engine["samples_per_s"] / base["samples_per_s"]
                lines += [f"- **{backend}**: {speedup:,.0f}x the per-sample Python baseline (same model, same "
                          f"draws: `tests/campaign/test_backends.py`; target >= 100x); 100,000 samples x 14 days "
                          f"in {engine['seconds']:.1f} s (target <= 10 s on 2 cores)."]
        lines.append("")
        for name, r in campaign.items():
            lines.append(f"- `{name}`: {CASES[name][1].__doc__}")
        lines.append("")
    roadmap = {k: v for k, v in results.items() if CASES[k][0] == "roadmap"}
    if roadmap:
        lines += ["## Roadmap optimiser (full problem: scenarios/full-exit-2035.yaml)", "",
                  "| case | solver | variables | binaries | constraints | seconds | status | gap | objective (US$ m) "
                  "| violations | peak RSS (MB) |", "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
        for name, r in roadmap.items():
            if r.get("skipped"):
                lines.append(f"| {name} | {r['solver']} | | | | | skipped: {r['skipped']} | | | | |")
                continue
            gap = "–" if r["gap"] is None else f"{r['gap']:.2%}"
            lines.append(f"| {name} | {r['solver']} | {r['variables']:,} | {r['binaries']:,} | {r['constraints']:,} | "
                         f"{_fmt(r['seconds'])} | {r['status']} | {gap} | {_fmt(r['objective'], 0)} | "
                         f"{r['violations']} | {_fmt(r['peak_rss_mb'], 0)} |")
        highs, cbc = roadmap.get("roadmap_full_highs"), roadmap.get("roadmap_full_cbc")
        lines.append("")
        if highs and not highs.get("skipped"):
            lines.append(f"- HiGHS: {highs['seconds']:.1f} s to status {highs['status']} (target: <= 1 % gap in <= 10 s "
                         f"on 2 cores); inputs (campaign requirement search, force tables) took a further "
                         f"{highs['inputs_seconds']:.1f} s.")
        if highs and cbc and not highs.get("skipped") and not cbc.get("skipped"):
            lines.append(f"- CBC / HiGHS time ratio: {cbc['seconds'] / highs['seconds']:.1f}x "
                         f"(CBC status {cbc['status']}).")
        lines.append("")
        for name in roadmap:
            lines.append(f"- `{name}`: {CASES[name][1].__doc__}")
        lines.append("")
    sweep = {k: v for k, v in results.items() if CASES[k][0] == "sweep"}
    if sweep:
        lines += ["## Sweeps on Ray (192 campaign points x 20,000 samples, tasks of 4 points)", "",
                  "| case | mode | workers | seconds | mean seconds per point | peak RSS (MB) |", "|---|---|---:|---:|---:|---:|"]
        for name, r in sweep.items():
            if name == "ray_overhead_per_task":
                continue
            lines.append(f"| {name} | {r['mode']} | {r['workers']} | {_fmt(r['seconds'])} | "
                         f"{_fmt(r['point_seconds_mean'], 3)} | {_fmt(r['peak_rss_mb'], 0)} |")
        one, many = sweep.get("sweep_ray_1_worker"), sweep.get("sweep_ray_all_workers")
        overhead = sweep.get("ray_overhead_per_task")
        lines.append("")
        if one and many and many["workers"] > 1:
            efficiency = one["seconds"] / (many["seconds"] * many["workers"])
            lines.append(f"- Scaling 1 → {many['workers']} workers: {one['seconds']:.1f} s → {many['seconds']:.1f} s, "
                         f"parallel efficiency {efficiency:.0%} (Ray start-up and the first point, run in the driver, "
                         "included).")
        if overhead:
            lines.append(f"- Ray: start-up {overhead['startup_seconds']:.1f} s; {overhead['ms_per_task']:.2f} ms per "
                         f"empty task ({overhead['tasks']:,} tasks).")
        lines.append("")
        for name in sweep:
            lines.append(f"- `{name}`: {CASES[name][1].__doc__}")
        lines.append("")
    evidence = {k: v for k, v in results.items() if CASES[k][0] == "evidence"}
    if evidence:
        lines += _evidence_markdown(evidence)
    text = "\n".join(lines)
    path.write_text(text)
    return text


def _evidence_markdown(evidence: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Evidence reader (news articles -> claims)", ""]
    quality = evidence.get("evidence_quality")
    if quality:
        lines += ["Precision / recall per field (targets: >= 0.9 / >= 0.8 on actions, troop counts and places).", "",
                  "| set | articles | claims | action | troops | locations | actor | modality | unit type | attribution "
                  "| metadata (outlet/date/title) |", "|---|---:|---:|---|---|---|---|---|---|---|---|"]
        for name, row in quality["sets"].items():
            cell = {}
            for field, f in row["fields"].items():
                cell[field] = "–" if f["precision"] is None else f"{f['precision']:.2f} / {f['recall']:.2f}"
            meta = " / ".join("–" if m["accuracy"] is None else f"{m['accuracy']:.2f}" for m in row["metadata"].values())
            lines.append(f"| {name} | {row['articles']} | {row['claims']} | {cell['action']} | {cell['troops']} | "
                         f"{cell['locations']} | {cell['actor']} | {cell['modality']} | {cell['unit_type']} | "
                         f"{cell['attribution']} | {meta} |")
        lines.append("")
        for name, row in quality["sets"].items():
            lines.append(f"- {name}: {row['use']}.")
        lines.append("")
    speed = evidence.get("evidence_throughput")
    if speed:
        lines += [f"- Speed: {speed['articles_per_s']:.0f} articles/s ({speed['kchars_per_s']:.0f} k characters/s) "
                  f"on one core once the reader is built ({speed['build_seconds']:.1f} s: spaCy pipeline and "
                  f"gazetteers from the data); peak RSS {speed['peak_rss_mb']:.0f} MB.", ""]
    hostile = evidence.get("evidence_hostile")
    if hostile:
        lines += ["| hostile input | seconds | outcome |", "|---|---:|---|"]
        for label, row in hostile["cases"].items():
            lines.append(f"| {label} | {row['seconds']:.2f} | {row['outcome']} |")
        lines += ["", f"Peak RSS of the hostile-input run: {hostile['peak_rss_mb']:.0f} MB.", ""]
    return lines


SECTION_TITLES = {"campaign": "## Campaign engine", "roadmap": "## Roadmap optimiser", "sweep": "## Sweeps on Ray",
                  "evidence": "## Evidence reader"}


def splice(existing: str, fresh: str, group: str) -> str:
    """Replace one group's section of an existing results file with a fresh one (``--only``), keeping the rest."""
    title = SECTION_TITLES[group]

    def section(text: str) -> tuple[int, int] | None:
        start = text.find(title)
        if start < 0:
            return None
        end = text.find("\n## ", start + 1)
        return start, (len(text) if end < 0 else end + 1)

    new = section(fresh)
    if new is None:
        return existing
    block = fresh[new[0]:new[1]].rstrip("\n") + "\n\n"
    old = section(existing)
    if old is None:
        return existing.rstrip("\n") + "\n\n" + block
    return existing[:old[0]] + block + existing[old[1]:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help="run one case and print its JSON")
    parser.add_argument("--only", help="run one group of cases")
    parser.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case)))
        return 0
    names = [n for n, (group, _) in CASES.items() if not args.only or group == args.only]
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", "bench.run", "--case", name], cwd=ROOT, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    if args.only and args.output.exists():
        existing = args.output.read_text()
        fresh = write_markdown(results, args.output)
        text = splice(existing, fresh, args.only)
        args.output.write_text(text)
        print(text)
        return 0
    print(write_markdown(results, args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
