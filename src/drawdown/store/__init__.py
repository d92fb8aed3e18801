"""The results store: every run, with what produced it, in one DuckDB file.

Guarantees (tested in ``tests/store``):

* a run's results become visible only when the run completes: results and the ``complete`` status are written
  in one transaction;
* a run killed at any moment leaves earlier runs intact and never shows as complete (it stays ``running`` and is
  reported as ``interrupted`` once its process is gone);
* two runs at once both land: DuckDB lets one process write a file at a time, so each write opens the file,
  writes in one short transaction and closes it, retrying while another process holds the lock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from platformdirs import user_data_dir

from drawdown.errors import Location, StoreError

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 120.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    scenario VARCHAR,
    scenario_path VARCHAR,
    scenario_text VARCHAR,
    scenario_sha256 VARCHAR,
    data_version VARCHAR,
    code_version VARCHAR,
    engine VARCHAR,
    seed BIGINT,
    parameters JSON,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,
    error VARCHAR,
    pid INTEGER,
    host VARCHAR  -- host:pid:process start time, to tell a dead run from a live one
);
CREATE TABLE IF NOT EXISTS run_summary (run_id VARCHAR PRIMARY KEY, document JSON);
CREATE TABLE IF NOT EXISTS posture (
    run_id VARCHAR, phase INTEGER, date DATE, element_id VARCHAR, owner VARCHAR, name VARCHAR,
    unit_type VARCHAR, category VARCHAR, country VARCHAR, site VARCHAR, personnel BIGINT, power DOUBLE,
    power_unit VARCHAR, status VARCHAR, mission VARCHAR, action_line INTEGER
);
CREATE TABLE IF NOT EXISTS withdrawals (
    run_id VARCHAR, phase INTEGER, date DATE, element_id VARCHAR, owner VARCHAR, unit_type VARCHAR,
    category VARCHAR, country VARCHAR, site VARCHAR, personnel BIGINT, power DOUBLE, power_unit VARCHAR,
    reason VARCHAR, action_line INTEGER
);
CREATE TABLE IF NOT EXISTS sweep_points (
    run_id VARCHAR, point INTEGER, block VARCHAR, parameters JSON, outputs JSON, seconds DOUBLE,
    finished_at TIMESTAMP, PRIMARY KEY (run_id, point)
);
CREATE TABLE IF NOT EXISTS articles (
    article_id VARCHAR PRIMARY KEY, path VARCHAR, kind VARCHAR, outlet VARCHAR, title VARCHAR, date DATE,
    author VARCHAR, ingested_at TIMESTAMP, data_version VARCHAR, code_version VARCHAR
);
CREATE TABLE IF NOT EXISTS claims (
    article_id VARCHAR, claim INTEGER, action VARCHAR, actor VARCHAR, troops BIGINT, troops_high BIGINT,
    qualifier VARCHAR, unit_type VARCHAR, location VARCHAR, places JSON, time JSON, modality VARCHAR,
    attribution JSON, span_start INTEGER, span_end INTEGER, check_status VARCHAR, check_detail VARCHAR,
    PRIMARY KEY (article_id, claim)
);
CREATE TABLE IF NOT EXISTS events (
    run_id VARCHAR, phase INTEGER, date DATE, action_index INTEGER, kind VARCHAR, line INTEGER,
    description VARCHAR, personnel BIGINT
);
"""

RESULT_TABLES = ("posture", "withdrawals", "events", "run_summary", "sweep_points")


def default_store_path() -> Path:
    """``$DRAWDOWN_STORE`` if set, else ``results.duckdb`` in the user's data directory."""
    env = os.environ.get("DRAWDOWN_STORE")
    if env:
        return Path(env)
    return Path(user_data_dir("drawdown", appauthor=False)) / "results.duckdb"


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), so a reused pid is not mistaken for the original process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def _process_token() -> str:
    start = _process_start(os.getpid())
    return f"{socket.gethostname()}:{os.getpid()}:{start or ''}"


def _pid_alive(token: str | None) -> bool:
    """Whether the process that wrote ``token`` (host:pid:start) still runs; True when it cannot be told."""
    if not token:
        return True
    host, _, rest = token.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # cannot tell for another machine
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not start or _process_start(pid) == start


class Store:
    """A DuckDB results file. Cheap to construct; each operation opens and closes the file."""

    def __init__(self, path: str | Path | None = None, *, lock_timeout: float = LOCK_TIMEOUT_S):
        self.path = Path(path) if path else default_store_path()
        self.lock_timeout = lock_timeout

    # ---- connection handling -------------------------------------------------------------------
    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if read_only and not self.path.exists():
            raise StoreError.single("no results store here yet; run a scenario first", Location(str(self.path)))
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.ConnectionException as exc:
                # the same process holds the file open for writing (a run in a thread): wait for it
                if "different configuration" not in str(exc) or time.monotonic() > deadline:
                    raise StoreError.single(f"cannot open the results store: {exc}", Location(str(self.path))) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.IOException as exc:
                if "not a valid duckdb database" in str(exc).lower():
                    raise StoreError.single("not a drawdown results store (not a DuckDB file)",
                                            Location(str(self.path)), suggestion="pass another file with --store") from None
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise StoreError.single(f"cannot open the results store: {exc}", Location(str(self.path))) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise StoreError.single(
                    f"not a drawdown results store ({type(exc).__name__}: {str(exc).splitlines()[0]})",
                    Location(str(self.path)),
                    suggestion="pass another file with --store",
                ) from None
        try:
            self._check_schema(con, read_only)
            yield con
        except duckdb.Error as exc:
            raise StoreError.single(f"results store error: {str(exc).splitlines()[0]}", Location(str(self.path))) from None
        finally:
            con.close()

    def _check_schema(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        """Refuse DuckDB files that other programs made; create the schema in a new file."""
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if tables and "meta" not in tables:
            raise StoreError.single("not a drawdown results store (a DuckDB file without drawdown's tables)",
                                    Location(str(self.path)), suggestion="pass another file with --store")
        if "meta" in tables:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or int(row[0]) > SCHEMA_VERSION:
                raise StoreError.single(f"results store schema {row[0] if row else '?'} is newer than this drawdown "
                                        f"understands ({SCHEMA_VERSION})", Location(str(self.path)),
                                        suggestion="upgrade drawdown or use another --store")
        if not read_only:
            con.execute(_SCHEMA)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
                        [str(SCHEMA_VERSION)])
        elif not tables:
            raise StoreError.single("empty results store; run a scenario first", Location(str(self.path)))

    # ---- writing -------------------------------------------------------------------------------
    def begin_run(self, *, scenario: str, scenario_path: str, scenario_text: str, scenario_sha256: str,
                  data_version: str, code_version: str, seed: int, parameters: dict[str, Any],
                  engine: str = "timeline+balance") -> str:
        """Record that a run has started (status ``running``) and return its id."""
        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        with self.connect() as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'running', NULL, ?, ?)",
                [run_id, scenario, scenario_path, scenario_text, scenario_sha256, data_version, code_version, engine,
                 seed, json.dumps(parameters, default=str), _now(), os.getpid(), _process_token()],
            )
        return run_id

    def complete_run(self, run_id: str, tables: dict[str, pd.DataFrame], document: dict[str, Any]) -> None:
        """Write a run's results and mark it complete, all in one transaction."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for name, frame in tables.items():
                    if name not in RESULT_TABLES or frame.empty:
                        continue
                    staged = frame.copy()
                    staged.insert(0, "run_id", run_id)
                    con.register("staged", staged)
                    columns = ", ".join(f'"{c}"' for c in staged.columns)
                    con.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM staged")
                    con.unregister("staged")
                con.execute("INSERT INTO run_summary VALUES (?, ?)", [run_id, json.dumps(document, default=str)])
                _fault_pause()
                con.execute(
                    "UPDATE runs SET status = 'complete', finished_at = ?, parameters = ? WHERE run_id = ?",
                    [_now(), json.dumps(document.get("parameters", {}), default=str), run_id],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # ---- sweeps --------------------------------------------------------------------------------
    def begin_sweep(self, sweep_id: str, *, name: str, spec_path: str, spec_text: str, spec_sha256: str,
                    data_version: str, code_version: str, seed: int, parameters: dict[str, Any]) -> set[int]:
        """Start or resume a sweep (its run id is derived from its spec): returns the points already stored."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            row = con.execute("SELECT status FROM runs WHERE run_id = ?", [sweep_id]).fetchone()
            if row is None:
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, 'sweep', ?, ?, ?, NULL, 'running', NULL, ?, ?)",
                    [sweep_id, name, spec_path, spec_text, spec_sha256, data_version, code_version, seed,
                     json.dumps(parameters, default=str), _now(), os.getpid(), _process_token()])
            else:
                con.execute("UPDATE runs SET status = 'running', pid = ?, host = ?, finished_at = NULL WHERE run_id = ?",
                            [os.getpid(), _process_token(), sweep_id])
                con.execute("DELETE FROM run_summary WHERE run_id = ?", [sweep_id])
            done = {r[0] for r in con.execute("SELECT point FROM sweep_points WHERE run_id = ?", [sweep_id]).fetchall()}
            con.execute("COMMIT")
        return done

    def add_sweep_points(self, sweep_id: str, results: list[dict[str, Any]]) -> None:
        """Store finished points in one transaction; a point already stored is kept, never duplicated."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for r in results:
                    con.execute("INSERT INTO sweep_points VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                [sweep_id, int(r["point"]), r.get("block"), json.dumps(r["parameters"], default=str),
                                 json.dumps(r["outputs"], default=str), float(r["seconds"]), _now()])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def sweep_points(self, sweep_id: str) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            frame = con.execute("SELECT point, block, parameters, outputs, seconds FROM sweep_points "
                                "WHERE run_id = ? ORDER BY point", [sweep_id]).df()
        frame["parameters"] = [json.loads(x) for x in frame["parameters"]]
        frame["outputs"] = [json.loads(x) for x in frame["outputs"]]
        return frame

    def complete_sweep(self, sweep_id: str, summary: dict[str, Any]) -> None:
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM run_summary WHERE run_id = ?", [sweep_id])
            con.execute("INSERT INTO run_summary VALUES (?, ?)", [sweep_id, json.dumps(summary, default=str)])
            con.execute("UPDATE runs SET status = 'complete', finished_at = ? WHERE run_id = ?", [_now(), sweep_id])
            con.execute("COMMIT")

    # ---- evidence ------------------------------------------------------------------------------
    def add_articles(self, articles: list[dict[str, Any]], *, data_version: str, code_version: str) -> None:
        """Store articles and their claims (``drawdown.evidence.document`` shape) in one transaction; an article
        read again replaces its earlier claims, so the store never holds two readings of one text."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for art in articles:
                    con.execute("DELETE FROM claims WHERE article_id = ?", [art["id"]])
                    con.execute("DELETE FROM articles WHERE article_id = ?", [art["id"]])
                    con.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [art["id"], art["path"], art["kind"], art.get("outlet"), art.get("title"),
                                 art.get("date"), art.get("author"), _now(), data_version, code_version])
                    for c in art["claims"]:
                        check = c.get("check") or {}
                        con.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    [art["id"], c["index"], c["action"], c.get("actor"), c.get("troops"),
                                     c.get("troops_high"), c.get("qualifier"), c.get("unit_type"), c.get("location"),
                                     json.dumps(c.get("places", [])), json.dumps(c.get("time")), c["modality"],
                                     json.dumps(c.get("attribution", [])), c["span"][0], c["span"][1],
                                     check.get("status"), check.get("detail")])
                _fault_pause()
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def claims(self) -> pd.DataFrame:
        """Every stored claim with its article's outlet, title and date."""
        with self.connect(read_only=True) as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if not {"claims", "articles"} <= tables:  # a store from before the evidence reader
                return pd.DataFrame(columns=["outlet", "title", "date", "path", "article_id", "claim", "action",
                                             "actor", "troops", "location", "modality", "check_status"])
            return con.execute(
                "SELECT a.outlet, a.title, a.date, a.path, c.* FROM claims c JOIN articles a USING (article_id) "
                "ORDER BY a.date NULLS LAST, a.article_id, c.claim").df()

    def fail_run(self, run_id: str, error: str) -> None:
        with self.connect() as con:
            con.execute("UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE run_id = ?",
                        [error[:2000], _now(), run_id])

    # ---- reading -------------------------------------------------------------------------------
    def list_runs(self) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            frame = con.execute(
                "SELECT run_id, scenario, engine, status, started_at, finished_at, seed, data_version, code_version, pid, host "
                "FROM runs ORDER BY started_at, run_id"
            ).df()
        dead = pd.Series([not _pid_alive(h) for h in frame["host"]], index=frame.index, dtype=bool)
        stale = (frame["status"] == "running") & dead
        frame.loc[stale, "status"] = "interrupted"
        return frame.drop(columns=["pid", "host"])

    def get_run(self, run_id: str) -> dict[str, Any]:
        if len(run_id.strip()) < 4:
            raise StoreError.single(f"run id '{run_id}' is too short; give at least 4 characters",
                                    suggestion="see `drawdown runs list`")
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
            if row.empty:
                ids = [r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()]
                matches = [i for i in ids if i.startswith(run_id)]
                if len(matches) == 1:
                    return self.get_run(matches[0])
                if len(matches) > 1:
                    raise StoreError.single(f"run id '{run_id}' matches {len(matches)} runs", Location(str(self.path)),
                                            suggestion="give more characters: " + ", ".join(sorted(matches)[:5]))
                from drawdown.errors import did_you_mean

                raise StoreError.single(f"no run '{run_id}' in the store", Location(str(self.path)),
                                        suggestion=did_you_mean(run_id, ids) or "see `drawdown runs list`")
            record = row.iloc[0].to_dict()
            summary = con.execute("SELECT document FROM run_summary WHERE run_id = ?", [record["run_id"]]).fetchone()
        record["document"] = json.loads(summary[0]) if summary else None
        if record["status"] == "running" and not _pid_alive(record.get("host")):
            record["status"] = "interrupted"
        return record

    def result_table(self, run_id: str, table: str) -> pd.DataFrame:
        if table not in RESULT_TABLES:
            raise StoreError.single(f"unknown result table '{table}'")
        with self.connect(read_only=True) as con:
            return con.execute(f"SELECT * FROM {table} WHERE run_id = ?", [run_id]).df()

    def export(self, run_id: str, directory: str | Path) -> list[Path]:
        """Write a complete run's tables as Parquet files into ``directory``."""
        record = self.get_run(run_id)
        run_id = record["run_id"]
        if record["status"] != "complete":
            raise StoreError.single(f"run {run_id} is {record['status']}, not complete; nothing to export")
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError.single(f"cannot write there: {exc.strerror}", Location(str(directory))) from None
        written = []
        with self.connect(read_only=True) as con:
            tables = ("runs", "sweep_points") if record.get("engine") == "sweep" else ("runs", "posture", "withdrawals", "events")
            for table in tables:
                target = directory / f"{table}.parquet"
                tmp = directory / f".{table}.parquet.tmp"
                con.execute(
                    f"COPY (SELECT * FROM {table} WHERE run_id = $run_id) TO '{_sql_path(tmp)}' (FORMAT PARQUET)",
                    {"run_id": run_id},
                )
                os.replace(tmp, target)
                written.append(target)
        return written


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _fault_pause() -> None:
    """Fault injection for the crash tests (tests/store): when ``DRAWDOWN_TEST_PAUSE_IN_COMMIT`` is set, touch
    ``DRAWDOWN_TEST_PAUSE_MARKER`` (if given) and sleep that many seconds inside the write transaction, so a test
    can kill the process exactly there."""
    pause = os.environ.get("DRAWDOWN_TEST_PAUSE_IN_COMMIT")
    if pause:
        marker = os.environ.get("DRAWDOWN_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).touch()
        time.sleep(float(pause))
