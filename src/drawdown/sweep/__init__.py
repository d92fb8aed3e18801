"""Sweeps: many runs of one engine over varied inputs, on Ray, streamed into the store; and sensitivity.

* :func:`design` lays out the points: a full grid, a Latin hypercube, or a Sobol'/Saltelli design
  (SciPy's ``qmc``), reproducibly from the spec's seed.
* :func:`point_scenario` writes a point into the base scenario: a scenario field by its dotted path, a model
  parameter as a ``set`` action.
* :func:`run_points` runs points one by one with the engines the CLI uses; it is what each Ray task calls, so a
  point gives the same result on a cluster as locally (every point uses the spec's seed: common random numbers).
* :func:`run_sweep` drives it: local in-process, or Ray tasks of several points each (sized so that a task is
  worth Ray's overhead), results written to the store as each task finishes; points already in the store are
  not run again, so an interrupted sweep resumes where it stopped.
* :func:`sensitivity` turns a finished sweep into indices and plain words.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from drawdown.errors import DrawdownError, ScenarioError
from drawdown.sweep.spec import SweepSpec, check_paths, load_spec

__all__ = ["SweepSpec", "load_spec", "design", "point_scenario", "run_points", "run_sweep", "sensitivity",
           "output_value"]

#: Work a Ray task should carry at least (seconds), so that Ray's per-task overhead (about 0.4 ms measured,
#: bench/results.md) stays negligible.
MIN_TASK_SECONDS = 0.25
#: Environment variable that makes a sweep stop dead after N writes to the store (for the resume tests).
FAULT_EXIT_AFTER = "DRAWDOWN_FAULT_SWEEP_EXIT_AFTER"
#: Finished points are written to the store at most this often (one transaction each, about 30 ms): on a large
#: cluster, per-task writes would make the driver the bottleneck. Environment variable to override it.
FLUSH_SECONDS = "DRAWDOWN_SWEEP_FLUSH_SECONDS"
DEFAULT_FLUSH_SECONDS = 0.5


# ---- design --------------------------------------------------------------------------------------------------

def design(spec: SweepSpec) -> pd.DataFrame:
    """The points of the sweep: one row per point, one column per parameter path (plus ``block`` for Sobol':
    A, B, or AB<i> of the Saltelli scheme)."""
    from scipy.stats import qmc

    m = spec.model
    paths = [p.path for p in m.parameters]
    if m.method == "grid":
        rows = list(itertools.product(*[p.values for p in m.parameters]))  # type: ignore[misc]
        return pd.DataFrame(rows, columns=paths)
    low = np.array([p.low for p in m.parameters], dtype=float)
    high = np.array([p.high for p in m.parameters], dtype=float)
    d = len(paths)
    if m.method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(m.seed)).random(m.points)
        frame = pd.DataFrame(qmc.scale(unit, low, high), columns=paths)
    else:  # Saltelli: A and B from one Sobol' sequence of 2d dimensions; AB_i is A with column i from B
        base = qmc.Sobol(d=2 * d, scramble=True, seed=np.random.default_rng(m.seed)).random(m.points)
        a, b = qmc.scale(base[:, :d], low, high), qmc.scale(base[:, d:], low, high)
        blocks = [("A", a), ("B", b)]
        for i in range(d):
            ab = a.copy()
            ab[:, i] = b[:, i]
            blocks.append((f"AB{i}", ab))
        frame = pd.concat([pd.DataFrame(x, columns=paths).assign(block=name) for name, x in blocks],
                          ignore_index=True)
    for p in m.parameters:
        if p.integer:
            frame[p.path] = frame[p.path].round().astype(int)
    return frame


# ---- one point -----------------------------------------------------------------------------------------------

def point_scenario(base: dict[str, Any], point: dict[str, Any], integers: set[str],
                   settable: set[str] | None = None) -> dict[str, Any]:
    """The base scenario document with the point's values written in: model parameters (``settable``, or any
    path that is not a scenario field) as ``set`` actions, appended so that they override any earlier ``set``;
    scenario fields in place."""
    import copy

    from drawdown.scenario.model import ScenarioHeader

    document = copy.deepcopy(base)
    for path, value in point.items():
        value = _plain_value(value, path in integers)
        head = path.split(".", 1)[0]
        if (settable is not None and path in settable) or head not in ScenarioHeader.model_fields:
            document.setdefault("actions", []).append({"set": {"path": path, "value": value}})
            continue
        node = document
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return document


def _plain_value(value: Any, integer: bool) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return int(round(float(value))) if integer else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def output_value(document: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of an engine's JSON document (KeyError naming the path if absent)."""
    node: Any = document
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    if isinstance(node, (dict, list)):
        raise KeyError(path)
    return node


_DATA_CACHE: dict[str, Any] = {}


def _dataset(data_dir: str | None) -> Any:
    from drawdown.data import load_dataset

    key = data_dir or ""
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(data_dir)
    return _DATA_CACHE[key]


def run_points(job: dict[str, Any], points: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run points of a sweep one after the other; what each Ray task executes. ``job`` holds plain data only:
    the base scenario document, its path, the engine, samples, seed, outputs and data directory."""
    from ruamel.yaml import YAML

    from drawdown import runner
    from drawdown.scenario import scenario_from_text

    data = _dataset(job.get("data_dir"))
    if job.get("one_thread"):  # a Ray worker: parallelism comes from the workers, not from threads in each
        try:
            import numba

            numba.set_num_threads(1)
        except (ImportError, ValueError):
            pass
    out = []
    for index, point in points:
        started = time.perf_counter()
        document = point_scenario(job["base"], point, set(job["integers"]), set(job.get("settable", [])))
        stream = io.StringIO()
        YAML(typ="safe").dump(document, stream)
        engine, samples, seed = job["engine"], int(job["samples"]), int(job["seed"])
        try:
            scenario = scenario_from_text(stream.getvalue(), job["base_path"])
            if engine == "campaign":
                result = runner.run_campaign(scenario, data, samples=samples, seed=seed)
            elif engine == "movement":
                result = runner.run_movement(scenario, data, samples=samples, seed=seed)
            elif engine == "roadmap":
                result = runner.run_roadmap(scenario, data, seed=seed, what_ifs=0)
            else:
                result = runner.run_cost(scenario, data)
        except DrawdownError as exc:  # the lines would be those of the generated scenario: name the point
            values = ", ".join(f"{k}={_plain_value(v, k in job['integers'])!r}" for k, v in point.items())
            raise DrawdownError.single(
                f"sweep point {index} ({values}): " + "; ".join(p.message for p in exc.problems),
                suggestion="narrow the parameter's range or values in the spec") from None
        values = {}
        for path in job["outputs"]:
            try:
                values[path] = output_value(result, path)
            except KeyError:
                raise DrawdownError.single(
                    f"output '{path}' is not in the {engine} engine's result",
                    suggestion="see the engine's --json output for the paths it has") from None
        out.append({"point": index, "parameters": {k: _plain_value(v, k in job["integers"]) for k, v in point.items()},
                    "outputs": values, "seconds": time.perf_counter() - started})
    return out


# ---- the sweep -----------------------------------------------------------------------------------------------

def prepare(spec: SweepSpec, data: Any, data_dir: str | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Check the spec against the base scenario and the data, and lay out the job and its points."""
    from ruamel.yaml import YAML

    from drawdown.scenario import load_scenario, scenario_from_text
    from drawdown.scenario.timeline import settable_paths

    base_scenario = load_scenario(spec.base_path)  # a broken base scenario fails here, located in its own file
    base = YAML(typ="safe").load(base_scenario.text)
    problems = check_paths(spec, data, base)
    if problems:
        raise ScenarioError(problems)
    settable = settable_paths(data)
    integers = set()
    for p in spec.model.parameters:
        current = _current(base, p.path)
        if p.integer or (p.integer is None and isinstance(current, int) and not isinstance(current, bool)):
            integers.add(p.path)
        elif p.integer is None and p.path in set(data.parameters["path"]):
            kind = data.parameters.set_index("path").at[p.path, "type"]
            if kind == "int":
                integers.add(p.path)
    points = design(spec)
    for path in integers:
        if path in points:
            points[path] = points[path].round().astype(int)
    # every value the design uses must make a valid scenario: compile the corners (each input at its lowest,
    # then at its highest) before anything runs
    for corner in ("min", "max"):
        values = {p.path: (min if corner == "min" else max)(points[p.path], key=_order) for p in spec.model.parameters}
        stream = io.StringIO()
        YAML(typ="safe").dump(point_scenario(base, values, integers, settable), stream)
        try:
            scenario_from_text(stream.getvalue(), str(spec.base_path)).timeline(data)
        except DrawdownError as exc:
            text = ", ".join(f"{k}={_plain_value(v, k in integers)!r}" for k, v in values.items())
            raise DrawdownError.single(f"the {corner}imum of the design ({text}) makes an invalid scenario: "
                                       + "; ".join(p.message for p in exc.problems),
                                       spec.locate("parameters"), field="parameters",
                                       suggestion="narrow the parameter's range or values") from None
    job = {"base": base, "base_path": str(spec.base_path), "engine": spec.model.engine,
           "samples": spec.model.samples, "seed": spec.model.seed, "outputs": list(spec.model.outputs),
           "integers": sorted(integers), "settable": sorted(settable & {p.path for p in spec.model.parameters}),
           "data_dir": data_dir}
    return job, points


def _order(value: Any) -> Any:
    return (0, value) if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        else (1, str(value))


def _current(document: dict[str, Any], path: str) -> Any:
    try:
        node: Any = document
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def run_sweep(spec: SweepSpec, data: Any, store: Any, *, address: str | None = None, workers: int | None = None,
              local: bool = False, data_dir: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run (or resume) a sweep and return its summary. Results stream into ``store`` as tasks finish."""
    from dataclasses import replace

    from drawdown import __version__

    spec = replace(spec, data_version=data.version)  # the id covers the data version
    job, points = prepare(spec, data, data_dir)
    sweep_id = spec.sweep_id
    done = store.begin_sweep(sweep_id, name=spec.model.name, spec_path=str(Path(spec.path).resolve()),
                             spec_text=spec.text, spec_sha256=spec.sha256, data_version=data.version, code_version=__version__,
                             seed=spec.model.seed, parameters={"method": spec.model.method, "points": len(points),
                                                               "engine": spec.model.engine})
    parameter_columns = [p.path for p in spec.model.parameters]
    records = points[parameter_columns].to_dict("records")
    todo = [(i, records[i]) for i in range(len(records)) if i not in done]
    total = len(points)
    if progress:
        progress(len(done), total)
    fault = int(os.environ.get(FAULT_EXIT_AFTER, "0") or 0)
    flush_every = float(os.environ.get(FLUSH_SECONDS, str(DEFAULT_FLUSH_SECONDS)))
    stored_writes = 0
    blocks = points["block"].to_dict() if "block" in points else {}
    buffer: list[dict[str, Any]] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal stored_writes, last_flush
        if buffer:
            store.add_sweep_points(sweep_id, buffer)  # one transaction; what is not flushed is redone on resume
            buffer.clear()
            stored_writes += 1
        last_flush = time.monotonic()
        if fault and stored_writes >= fault:
            os._exit(17)  # simulate a kill after N writes reached the store (tests only)

    def store_results(results: list[dict[str, Any]]) -> None:
        for r in results:
            r["block"] = blocks.get(r["point"])
        buffer.extend(results)
        if progress:
            progress(len(results), total)
        if time.monotonic() - last_flush >= flush_every:
            flush()

    started = time.perf_counter()
    ran = len(todo)
    mode = "local"
    try:
        if todo:
            # the first two points run here: they check the outputs exist, and the second (past any warm-up)
            # measures how long a point takes, which sizes the tasks
            first = run_points(job, todo[:2])
            store_results(first)
            rest = todo[2:]
            per_point = min(r["seconds"] for r in first)
            per_task = spec.model.points_per_task or max(1, math.ceil(MIN_TASK_SECONDS / max(per_point, 1e-3)))
            tasks = [rest[i:i + per_task] for i in range(0, len(rest), per_task)]
            try:
                if local or not tasks:
                    for chunk in tasks:
                        store_results(run_points(job, chunk))
                else:
                    mode = _run_on_ray(job, tasks, store_results, address=address, workers=workers)
            finally:
                flush()  # keep what finished, even when a later task failed or the user pressed Ctrl-C
    except Exception as exc:
        store.fail_run(sweep_id, f"{type(exc).__name__}: {exc}")  # running the spec again resumes it
        raise
    summary = summarise(store, sweep_id, spec)
    summary.update({"sweep_id": sweep_id, "points": total, "ran_now": ran, "resumed_from": len(done),
                    "mode": mode, "seconds": round(time.perf_counter() - started, 3)})
    store.complete_sweep(sweep_id, summary)
    return summary


def _run_on_ray(job: dict[str, Any], tasks: list[list[tuple[int, dict[str, Any]]]],
                store_results: Callable[[list[dict[str, Any]]], None], *, address: str | None,
                workers: int | None) -> str:
    try:
        import ray
    except ImportError:
        raise DrawdownError.single("Ray is not installed", suggestion="pip install 'drawdown[sweep]', or run with --local") from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
                                   "configure_logging": False}
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise DrawdownError.single(f"cannot start or join Ray{f' at {address}' if address else ''}: "
                                       f"{str(exc).splitlines()[0]}",
                                       suggestion="check the address (ray://host:10001 needs ray[client] "
                                                  "installed), or run with --local") from None
    try:
        remote = ray.remote(run_points)
        job_ref = ray.put({**job, "one_thread": True})
        pending = [remote.remote(job_ref, chunk) for chunk in tasks]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                store_results(ray.get(ref))
    finally:
        if started_here:
            ray.shutdown()
    return f"ray ({address or 'local'})"


def summarise(store: Any, sweep_id: str, spec: SweepSpec) -> dict[str, Any]:
    frame = store.sweep_points(sweep_id)
    outputs: dict[str, Any] = {}
    for path in spec.model.outputs:
        values = pd.to_numeric(pd.Series([o.get(path) for o in frame["outputs"]]), errors="coerce")
        finite = values.dropna()
        outputs[path] = {"n": int(values.size), "missing": int(values.isna().sum()),
                         "p10": None if finite.empty else round(float(finite.quantile(0.1)), 4),
                         "p50": None if finite.empty else round(float(finite.quantile(0.5)), 4),
                         "p90": None if finite.empty else round(float(finite.quantile(0.9)), 4)}
    return {"name": spec.model.name, "engine": spec.model.engine, "method": spec.model.method,
            "parameters": [p.path for p in spec.model.parameters], "outputs": outputs}


# ---- sensitivity ---------------------------------------------------------------------------------------------

def sensitivity(points: pd.DataFrame, method: str, parameters: list[str], outputs: list[str], *,
                n: int | None = None) -> dict[str, Any]:
    """Which inputs drive each output.

    Sobol' designs give first-order and total indices (SciPy's ``sobol_indices`` on the Saltelli blocks, with
    bootstrap intervals); grids and Latin hypercubes give Spearman rank correlations. Every method also gives a
    tornado: the mean output over the lowest and the highest fifth of each input's range. Points where an
    output is missing (e.g. an objective that never fell) are left out of that output's figures, and counted."""
    from scipy import stats

    frame = points.copy()
    values = pd.DataFrame([o for o in frame["outputs"]], index=frame.index)
    inputs = pd.DataFrame([p for p in frame["parameters"]], index=frame.index)
    result: dict[str, Any] = {"method": method, "outputs": {}}
    for out in outputs:
        y = (pd.to_numeric(values[out], errors="coerce").astype(float) if out in values
             else pd.Series(np.nan, index=frame.index))
        entry: dict[str, Any] = {"missing": int(y.isna().sum()), "n": int(y.size), "inputs": {}}
        constant = y.notna().sum() > 0 and y.dropna().nunique() <= 1
        if constant:
            entry["note"] = "the output is the same at every point: no input moves it"
        if method == "sobol" and n and not constant:
            blocks = frame["block"]
            counts = blocks.value_counts()
            whole = all(counts.get(b, 0) == n for b in ["A", "B"] + [f"AB{i}" for i in range(len(parameters))])
            if y.isna().any() or not whole:
                entry["note"] = ("Sobol' indices need every point of the design with a value (an incomplete sweep, "
                                 "or an output missing at some points); rank correlations instead")
            else:
                frame = frame.sort_values("point")
                y = y.loc[frame.index]
                f_a = y[blocks == "A"].to_numpy()[None, :]
                f_b = y[blocks == "B"].to_numpy()[None, :]
                f_ab = np.stack([y[blocks == f"AB{i}"].to_numpy()[None, :] for i in range(len(parameters))])
                indices = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)
                first = np.atleast_2d(indices.first_order)
                total = np.atleast_2d(indices.total_order)
                for i, p in enumerate(parameters):
                    entry["inputs"][p] = {"first_order": round(float(first[0, i]), 4),
                                          "total_order": round(float(total[0, i]), 4)}
                if n < 64:
                    entry["note"] = f"Sobol' indices from N = {n} base points are rough; use 64 or more to quote them"
        ok = y.notna()
        for p in parameters:
            x = pd.to_numeric(inputs[p], errors="coerce")
            both = ok & x.notna()
            item = entry["inputs"].setdefault(p, {})
            if both.sum() >= 3 and x[both].nunique() > 1 and y[both].nunique() > 1:
                rho = stats.spearmanr(x[both], y[both]).statistic
                item["spearman"] = round(float(rho), 4)
                low, high = x[both].quantile(0.2), x[both].quantile(0.8)
                item["tornado"] = {"low_input": round(float(low), 4), "high_input": round(float(high), 4),
                                   "output_at_low": round(float(y[both][x[both] <= low].mean()), 4),
                                   "output_at_high": round(float(y[both][x[both] >= high].mean()), 4)}
            else:
                item["spearman"] = 0.0
        entry["ranking"] = _rank(entry["inputs"])
        entry["text"] = (f"{out} is the same at every point: none of the inputs moves it." if constant
                         else _words(out, entry))
        result["outputs"][out] = entry
    return result


def _score(item: dict[str, Any]) -> float:
    if "total_order" in item:
        return abs(item["total_order"])
    return abs(item.get("spearman", 0.0))


def _rank(inputs: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(inputs, key=lambda p: -_score(inputs[p]))


def _words(output: str, entry: dict[str, Any]) -> str:
    ranking = entry["ranking"]
    if not ranking:
        return f"{output}: no input could be related to it"
    measure = "total-order index" if "total_order" in entry["inputs"][ranking[0]] else "rank correlation"
    top = [p for p in ranking if _score(entry["inputs"][p]) >= 0.1][:2]
    if not top:
        return f"{output}: no input has a clear effect over this design (all below 0.1)."
    named = " and on ".join(f"{p} ({measure} {entry['inputs'][p].get('total_order', entry['inputs'][p].get('spearman')):+.2f})"
                            for p in top)
    weak = [p for p in ranking if _score(entry["inputs"][p]) < 0.05 and p not in top]
    tail = f"; hardly on {', '.join(weak)}" if weak else ""
    missing = f" ({entry['missing']} of {entry['n']} points had no value)" if entry["missing"] else ""
    return f"{output} depends mostly on {named}{tail}.{missing}"
