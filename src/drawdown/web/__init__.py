"""The local web dashboard: ``drawdown serve``.

A FastAPI app that calls the same runner functions as the CLI (it computes nothing itself). One page, no
external assets (the page's script and style are inline; reports embed plotly.js). Safety:

* it binds to 127.0.0.1 unless told otherwise;
* it reads and writes only the results store and the scenario folder: scenarios are addressed by name
  (``[a-z0-9][a-z0-9_-]*``), never by path;
* uploads are size-limited and parsed with the scenario parser (a safe YAML loader); bad input gets a located
  message, never a stack trace;
* runs go to a background thread, one at a time; their progress is polled.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request  # the `web` extra; only `drawdown serve` imports this module
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from drawdown.errors import DrawdownError

#: Largest scenario text accepted (the same limit as the parser's).
MAX_UPLOAD_BYTES = 1_000_000
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,80}")  # used with fullmatch (no trailing newline slips through)
ENGINES = ("posture", "campaign", "roadmap", "cost")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]", "testserver")


class Jobs:
    """Runs in a background thread, one at a time, with their progress and outcome."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}

    def start(self, work: Any, label: str) -> str:
        job_id = uuid.uuid4().hex[:12]
        with self.lock:
            if any(j["state"] == "running" for j in self.jobs.values()):
                raise DrawdownError.single("another run is in progress; wait for it to finish")
            self.jobs[job_id] = {"id": job_id, "label": label, "state": "running", "step": "starting",
                                 "started": time.time(), "result": None, "error": None}

        def target() -> None:
            try:
                result = work(lambda step: self.update(job_id, step=step))
                self.update(job_id, state="done", step="done", result=result)
            except DrawdownError as exc:
                self.update(job_id, state="failed", error="; ".join(str(p) for p in exc.problems))
            except Exception as exc:  # the page shows a message; the log keeps the details
                traceback.print_exc()
                self.update(job_id, state="failed", error=f"{type(exc).__name__}: {exc}")

        threading.Thread(target=target, daemon=True).start()
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        with self.lock:
            self.jobs[job_id].update(fields)

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return dict(job) if job else None


def problems_of(error: DrawdownError) -> list[dict[str, Any]]:
    out = []
    for p in error.problems:
        loc = p.location
        out.append({"message": p.message, "line": getattr(loc, "line", None) if loc else None,
                    "column": getattr(loc, "column", None) if loc else None, "field": p.field,
                    "suggestion": p.suggestion, "text": str(p)})
    return out


def create_app(store_path: str | Path | None = None, scenario_dir: str | Path = "scenarios", *,
               allowed_hosts: list[str] | None = None) -> FastAPI:
    """The dashboard app over a results store and a folder of scenarios."""
    from drawdown.data import load_dataset
    from drawdown.runner import build_report_document, run_campaign, run_cost, run_roadmap, run_scenario
    from drawdown.scenario import scenario_from_text
    from drawdown.store import Store

    app = FastAPI(title="drawdown", docs_url=None, redoc_url=None, openapi_url=None)
    # only requests addressed to this machine by name or loopback address (defeats DNS rebinding)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts or LOOPBACK_HOSTS))
    store = Store(store_path)
    folder = Path(scenario_dir).resolve()
    jobs = Jobs()
    data = load_dataset()

    def scenario_file(name: str) -> Path:
        if not NAME.fullmatch(name):
            raise HTTPException(400, f"'{name}' is not a scenario name (lower case, digits, - and _)")
        path = (folder / f"{name}.yaml").resolve()
        if path.parent != folder:
            raise HTTPException(400, "scenario names cannot leave the scenario folder")
        return path

    async def body_text(request: Request) -> str:
        # JSON only: a form or text/plain post from another web site would skip the browser's preflight check
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise HTTPException(415, "send the scenario as JSON (Content-Type: application/json)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 1000:
            raise HTTPException(413, f"the request is {int(declared):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
        raw = b""
        async for chunk in request.stream():  # never hold more than the limit, whatever the headers say
            raw += chunk
            if len(raw) > MAX_UPLOAD_BYTES + 1000:
                raise HTTPException(413, f"the request is over the limit of {MAX_UPLOAD_BYTES:,} bytes")
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise HTTPException(400, "send JSON: {\"text\": \"...\"}") from None
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str):
            raise HTTPException(400, "send JSON: {\"text\": \"...\"}")
        return text

    @app.exception_handler(DrawdownError)
    async def _drawdown_error(request: Request, exc: DrawdownError) -> JSONResponse:
        return JSONResponse({"ok": False, "problems": problems_of(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # a message, never a stack trace
        traceback.print_exception(exc)
        return JSONResponse({"ok": False, "problems": [{"message": f"internal error: {type(exc).__name__}",
                                                        "line": None}]}, status_code=500)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return PAGE

    @app.get("/api/scenarios")
    def scenarios() -> list[dict[str, str]]:
        return [{"name": p.stem} for p in sorted(folder.glob("*.yaml"))
                if NAME.fullmatch(p.stem) and p.resolve().parent == folder and p.resolve().is_file()]

    @app.get("/api/scenarios/{name}")
    def scenario(name: str) -> dict[str, str]:
        path = scenario_file(name)
        if not path.is_file():
            raise HTTPException(404, f"no scenario '{name}'")
        return {"name": name, "text": path.read_text()}

    def compile_text(text: str, name: str) -> Any:
        scenario = scenario_from_text(text, name)
        scenario.timeline(data)
        return scenario

    @app.put("/api/scenarios/{name}")
    async def save(name: str, request: Request) -> dict[str, Any]:
        path = scenario_file(name)  # the name first: a bad name is the first thing to say
        text = await body_text(request)
        await run_in_threadpool(compile_text, text, f"{name}.yaml")  # refuse what does not validate
        path.write_text(text)
        return {"ok": True, "name": name}

    @app.post("/api/validate")
    async def validate(request: Request) -> dict[str, Any]:
        text = await body_text(request)
        try:
            await run_in_threadpool(compile_text, text, "scenario.yaml")  # off the event loop
        except DrawdownError as exc:
            return {"ok": False, "problems": problems_of(exc)}
        return {"ok": True, "problems": []}

    @app.post("/api/runs")
    async def run(request: Request) -> dict[str, Any]:
        text = await body_text(request)
        engine = request.query_params.get("engine", "posture")
        if engine not in ENGINES:
            raise HTTPException(400, f"engine must be one of {', '.join(ENGINES)}")
        scenario = await run_in_threadpool(compile_text, text, "scenario.yaml")  # errors answer now, located

        def work(progress: Any) -> dict[str, Any]:
            progress(engine)
            if engine == "posture":
                return {"run_id": run_scenario(scenario, data, store=store).run_id}
            if engine == "campaign":
                return {"run_id": run_campaign(scenario, data, samples=5000, store=store)["run_id"]}
            if engine == "roadmap":
                return {"run_id": run_roadmap(scenario, data, what_ifs=2, store=store)["run_id"]}
            return {"run_id": run_cost(scenario, data, store=store)["run_id"]}

        return {"job": jobs.start(work, f"{engine}: {scenario.name}")}

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        found = jobs.get(job_id)
        if found is None:
            raise HTTPException(404, "no such job")
        found["seconds"] = round(time.time() - found.pop("started"), 1)
        return found

    @app.get("/api/runs")
    def runs() -> list[dict[str, Any]]:
        if not store.path.exists():
            return []
        frame = store.list_runs()
        frame = frame.astype(object).where(frame.notna(), None)  # NULLs as null, not NaN
        return [{k: (str(v) if k in ("started_at", "finished_at") and v is not None else v) for k, v in row.items()}
                for row in frame.to_dict("records")]

    @app.get("/api/runs/{run_id}")
    def run_detail(run_id: str) -> dict[str, Any]:
        record = store.get_run(run_id)
        return {k: (str(v) if k in ("started_at", "finished_at") else v) for k, v in record.items()
                if k not in ("scenario_text",)}

    @app.get("/api/compare")
    def compare(a: str, b: str) -> dict[str, Any]:
        """US troops by country at the horizon in two posture runs, side by side."""
        out = {}
        for key, run_id in (("a", a), ("b", b)):
            record = store.get_run(run_id)
            document = record.get("document") or {}
            phases = document.get("phases") or []
            if not phases or "us_troops_by_country" not in phases[-1]:
                raise DrawdownError.single(f"run {record['run_id']} is a {record.get('engine')} run: compare posture runs")
            out[key] = {"run_id": record["run_id"], "scenario": record["scenario"], "date": phases[-1]["date"],
                        "total": phases[-1]["us_troops_total"], "by_country": phases[-1]["us_troops_by_country"]}
        return out

    @app.get("/runs/{run_id}/report", response_class=HTMLResponse)
    def report(run_id: str) -> str:
        return build_report_document(store.get_run(run_id)["run_id"], data, store=store, samples=2000)

    return app


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>drawdown</title><link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1f24; }
header { background: #1f4f87; color: white; padding: 10px 16px; font-size: 18px; }
main { display: grid; grid-template-columns: 260px 1fr; gap: 16px; padding: 12px 16px; }
aside ul { list-style: none; padding: 0; margin: 0; } aside li { padding: 3px 0; cursor: pointer; color: #1f4f87; }
#editor { width: 100%; height: 360px; font-family: ui-monospace, monospace; font-size: 13px; }
.problem { color: #b22222; font-family: ui-monospace, monospace; font-size: 13px; margin: 2px 0; }
.ok { color: #1a7f37; } button, select { margin: 4px 4px 4px 0; }
table { border-collapse: collapse; font-size: 13px; } td, th { border-bottom: 1px solid #d0d7de; padding: 3px 6px; }
iframe { width: 100%; height: 900px; border: 1px solid #d0d7de; }
</style></head><body>
<header>drawdown dashboard</header>
<main>
<aside>
  <h3>Scenarios</h3><ul id="scenarios"></ul>
  <h3>Runs</h3><ul id="runs"></ul>
</aside>
<section>
  <div><strong id="current">new scenario</strong>
    <label>upload <input type="file" id="upload" accept=".yaml,.yml"></label>
    <input id="save-name" placeholder="save as (name)" size="18"> <button id="save">Save</button></div>
  <textarea id="editor" spellcheck="false"></textarea>
  <div>
    <button id="validate">Validate</button>
    <select id="engine"><option>posture</option><option>campaign</option><option>roadmap</option><option>cost</option></select>
    <button id="run">Run</button>
    <span id="status"></span>
  </div>
  <div id="problems"></div>
  <h3>Compare two runs</h3>
  <div><select id="cmp-a"></select> <select id="cmp-b"></select> <button id="compare">Compare</button></div>
  <div id="comparison"></div>
  <h3>Report</h3>
  <div id="report-link"></div>
  <iframe id="report" title="report" sandbox="allow-scripts allow-same-origin allow-downloads"></iframe>
</section>
</main>
<script>
const $ = (id) => document.getElementById(id);
async function api(path, options) {
  options = options || {};
  if (options.body) options.headers = { 'Content-Type': 'application/json' };
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { status: response.status, body: body };
}
function text(node, value) { node.textContent = value; return node; }
async function loadScenarios() {
  const r = await api('/api/scenarios');
  const list = $('scenarios'); list.innerHTML = '';
  for (const s of r.body) {
    const li = text(document.createElement('li'), s.name);
    li.dataset.name = s.name;
    li.onclick = async () => {
      const got = await api('/api/scenarios/' + encodeURIComponent(s.name));
      $('editor').value = got.body.text; text($('current'), s.name); $('problems').innerHTML = '';
    };
    list.appendChild(li);
  }
}
async function loadRuns() {
  const r = await api('/api/runs');
  const list = $('runs'); list.innerHTML = '';
  if (r.status !== 200 || !Array.isArray(r.body)) return;
  for (const id of ['cmp-a', 'cmp-b']) $(id).innerHTML = '';
  for (const run of r.body.slice().reverse()) {
    const li = text(document.createElement('li'), run.scenario + ' · ' + run.engine + ' · ' + run.status);
    li.dataset.run = run.run_id; li.title = run.run_id;
    li.onclick = () => showReport(run.run_id);
    list.appendChild(li);
    for (const id of ['cmp-a', 'cmp-b']) {
      const o = text(document.createElement('option'), run.scenario + ' (' + run.engine + ') ' + run.run_id.slice(0, 15));
      o.value = run.run_id; $(id).appendChild(o);
    }
  }
}
function showProblems(problems) {
  const box = $('problems'); box.innerHTML = '';
  if (!problems.length) { box.appendChild(text(document.createElement('div'), 'valid')).className = 'ok'; return; }
  for (const p of problems) {
    const d = text(document.createElement('div'), (p.line ? 'line ' + p.line + (p.column ? ':' + p.column : '') + ': ' : '')
      + p.message + (p.suggestion ? ' (' + p.suggestion + ')' : ''));
    d.className = 'problem'; d.dataset.line = p.line || ''; box.appendChild(d);
  }
}
function showReport(runId) {
  $('report').src = '/runs/' + encodeURIComponent(runId) + '/report';
  const a = text(document.createElement('a'), 'download the report');
  a.href = '/runs/' + encodeURIComponent(runId) + '/report'; a.download = runId + '.html';
  $('report-link').innerHTML = ''; $('report-link').appendChild(a);
}
$('upload').onchange = async () => {
  const file = $('upload').files[0];
  if (!file) return;
  if (file.size > 1000000) { showProblems([{ message: 'the file is larger than 1 MB' }]); return; }
  $('editor').value = await file.text(); text($('current'), file.name); $('problems').innerHTML = '';
};
$('save').onclick = async () => {
  const name = $('save-name').value.trim();
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    showProblems([{ message: "'" + name + "' is not a scenario name (lower case, digits, - and _)" }]); return;
  }
  const r = await api('/api/scenarios/' + encodeURIComponent(name), { method: 'PUT', body: JSON.stringify({ text: $('editor').value }) });
  if (r.status !== 200) { showProblems(r.body && r.body.problems ? r.body.problems : [{ message: (r.body && r.body.detail) || 'error' }]); return; }
  text($('current'), name); showProblems([]); await loadScenarios();
};
$('validate').onclick = async () => {
  const r = await api('/api/validate', { method: 'POST', body: JSON.stringify({ text: $('editor').value }) });
  showProblems(r.body.problems || []);
};
$('run').onclick = async () => {
  const engine = $('engine').value;
  const r = await api('/api/runs?engine=' + engine, { method: 'POST', body: JSON.stringify({ text: $('editor').value }) });
  if (r.status !== 200) { showProblems(r.body && r.body.problems ? r.body.problems : [{ message: (r.body && r.body.detail) || 'error' }]); return; }
  showProblems([]);
  const job = r.body.job;
  for (;;) {
    const j = await api('/api/jobs/' + job);
    text($('status'), j.body.state + ' · ' + j.body.step + ' · ' + j.body.seconds + ' s');
    if (j.body.state === 'done') { await loadRuns(); showReport(j.body.result.run_id); break; }
    if (j.body.state === 'failed') { showProblems([{ message: j.body.error }]); break; }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};
$('compare').onclick = async () => {
  const r = await api('/api/compare?a=' + encodeURIComponent($('cmp-a').value) + '&b=' + encodeURIComponent($('cmp-b').value));
  const box = $('comparison'); box.innerHTML = '';
  if (r.status !== 200) { box.appendChild(text(document.createElement('div'), (r.body.problems || [{ message: 'error' }])[0].message)).className = 'problem'; return; }
  const countries = Array.from(new Set(Object.keys(r.body.a.by_country).concat(Object.keys(r.body.b.by_country)))).sort();
  const table = document.createElement('table');
  const head = table.insertRow();
  for (const h of ['country', r.body.a.scenario, r.body.b.scenario]) text(head.insertCell(), h);
  for (const c of countries) {
    const row = table.insertRow();
    text(row.insertCell(), c); text(row.insertCell(), String(r.body.a.by_country[c] || 0)); text(row.insertCell(), String(r.body.b.by_country[c] || 0));
  }
  box.appendChild(table);
};
loadScenarios(); loadRuns();
</script></body></html>"""
