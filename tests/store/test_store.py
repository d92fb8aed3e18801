"""The results store: atomic runs, survival of kills, concurrent writers, export."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from drawdown.errors import StoreError
from drawdown.runner import run_scenario
from drawdown.scenario import load_scenario
from drawdown.store import Store

from ..conftest import SCENARIOS

KOSOVO = SCENARIOS / "kosovo-exit.yaml"


def cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    full_env = {**os.environ, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "drawdown", *args], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def check_invariants(path: Path) -> dict[str, str]:
    """Every complete run has its summary and posture; no other run has any result rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        runs = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
        for run_id, status in runs.items():
            posture = con.execute("SELECT count(*) FROM posture WHERE run_id = ?", [run_id]).fetchone()[0]
            summary = con.execute("SELECT count(*) FROM run_summary WHERE run_id = ?", [run_id]).fetchone()[0]
            if status == "complete":
                assert posture > 0 and summary == 1, run_id
            else:
                assert posture == 0 and summary == 0, (run_id, status)
    finally:
        con.close()
    return runs


def test_run_is_recorded_with_provenance(tmp_path, data):
    store = Store(tmp_path / "r.duckdb")
    result = run_scenario(load_scenario(KOSOVO), data, seed=3, store=store)
    record = store.get_run(result.run_id)
    assert record["status"] == "complete"
    assert record["scenario"] == "kosovo-exit"
    assert record["scenario_text"] == KOSOVO.read_text()
    assert record["scenario_sha256"] == result.scenario.sha256
    assert record["data_version"] == data.version
    assert record["seed"] == 3
    assert record["document"]["phases"] == result.to_dict()["phases"]
    posture = store.result_table(result.run_id, "posture")
    assert posture["personnel"].sum() == result.timeline.holdings["personnel"].sum()
    assert list(store.list_runs()["status"]) == ["complete"]


def test_export_parquet(tmp_path, data):
    store = Store(tmp_path / "r.duckdb")
    result = run_scenario(load_scenario(KOSOVO), data, store=store)
    files = store.export(result.run_id[:12], tmp_path / "export")  # a unique prefix is enough
    names = {f.name for f in files}
    assert names == {"runs.parquet", "posture.parquet", "withdrawals.parquet", "events.parquet"}
    back = duckdb.sql(f"SELECT sum(personnel) FROM '{tmp_path / 'export' / 'posture.parquet'}'").fetchall()[0][0]
    assert back == result.timeline.holdings["personnel"].sum()


def test_unknown_run_is_a_clear_error(tmp_path, data):
    store = Store(tmp_path / "r.duckdb")
    run_scenario(load_scenario(KOSOVO), data, store=store)
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.get_run("nope")


def test_not_a_store_is_a_clear_error(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database")
    with pytest.raises(StoreError, match="not a drawdown results store"):
        Store(bogus).list_runs()


def test_kill_during_commit_leaves_earlier_runs_intact(tmp_path, data):
    path = tmp_path / "r.duckdb"
    first = run_scenario(load_scenario(KOSOVO), data, store=Store(path))
    marker = tmp_path / "in-commit"
    proc = cli("run", str(SCENARIOS / "post-1990-exit.yaml"), "--store", str(path),
               env={"DRAWDOWN_TEST_PAUSE_IN_COMMIT": "60", "DRAWDOWN_TEST_PAUSE_MARKER": str(marker)})
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the run never reached its commit"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    runs = check_invariants(path)
    assert runs[first.run_id] == "complete"
    assert len(runs) == 2
    listed = Store(path).list_runs().set_index("run_id")["status"]
    killed = [r for r in runs if r != first.run_id][0]
    assert listed[killed] == "interrupted"
    with pytest.raises(StoreError, match="not complete"):
        Store(path).export(killed, tmp_path / "x")


@pytest.mark.slow
def test_kills_at_random_moments_never_corrupt_the_store(tmp_path, data):
    path = tmp_path / "r.duckdb"
    run_scenario(load_scenario(KOSOVO), data, store=Store(path))
    rng = random.Random(20261123)
    for _ in range(4):
        proc = cli("run", str(SCENARIOS / "germany-roadmap.yaml"), "--store", str(path))
        time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        runs = check_invariants(path)
        assert "complete" in runs.values()
    # and the store still takes new runs afterwards
    result = run_scenario(load_scenario(KOSOVO), data, store=Store(path))
    assert Store(path).get_run(result.run_id)["status"] == "complete"


def test_two_concurrent_runs_both_land(tmp_path):
    path = tmp_path / "r.duckdb"
    procs = [cli("run", str(SCENARIOS / name), "--store", str(path))
             for name in ("germany-roadmap.yaml", "post-1990-exit.yaml", "kosovo-exit.yaml")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    runs = check_invariants(path)
    assert sorted(runs.values()) == ["complete"] * 3
    con = duckdb.connect(str(path), read_only=True)
    names = {r[0] for r in con.execute("SELECT scenario FROM runs").fetchall()}
    con.close()
    assert names == {"germany-roadmap", "post-1990-exit", "kosovo-exit"}
