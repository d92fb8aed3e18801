"""The dashboard: its API through FastAPI's test client, and the page in a real (Debian) Chromium driven by
Playwright: loads without console errors, shows a scenario error at its line, runs a scenario that then appears
in the list, and draws the report's map."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from ..conftest import ROOT

fastapi = pytest.importorskip("fastapi", reason="the dashboard's dependencies (drawdown[web]) are not installed")
from fastapi.testclient import TestClient  # noqa: E402

from drawdown.web import create_app  # noqa: E402


@pytest.fixture()
def folder(tmp_path) -> Path:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("kosovo-exit", "rand-2016-baltic"):
        shutil.copy(ROOT / "scenarios" / f"{name}.yaml", scenarios)
    return scenarios


@pytest.fixture()
def client(tmp_path, folder) -> TestClient:
    return TestClient(create_app(tmp_path / "s.duckdb", folder))


def test_api_lists_validates_runs_and_compares(client, folder):
    assert {s["name"] for s in client.get("/api/scenarios").json()} == {"kosovo-exit", "rand-2016-baltic"}
    text = client.get("/api/scenarios/kosovo-exit").json()["text"]
    assert client.post("/api/validate", json={"text": text}).json() == {"ok": True, "problems": []}
    broken = text.replace("withdraw:", "withdraww:", 1)
    problems = client.post("/api/validate", json={"text": broken}).json()["problems"]
    assert problems and problems[0]["line"] == next(i for i, l in enumerate(broken.splitlines(), 1) if "withdraww" in l)
    ids = []
    for _ in range(2):
        job = client.post("/api/runs?engine=posture", json={"text": text}).json()["job"]
        for _ in range(200):
            state = client.get(f"/api/jobs/{job}").json()
            if state["state"] != "running":
                break
            time.sleep(0.05)
        assert state["state"] == "done", state
        ids.append(state["result"]["run_id"])
    assert {r["run_id"] for r in client.get("/api/runs").json()} == set(ids)
    both = client.get("/api/compare", params={"a": ids[0], "b": ids[1]}).json()
    assert both["a"]["by_country"] == both["b"]["by_country"] and "XKX" not in both["a"]["by_country"]
    page = client.get(f"/runs/{ids[0]}/report").text
    assert 'id="map"' in page


def test_api_refuses_paths_oversize_and_garbage(client, folder, tmp_path):
    assert client.get("/api/scenarios/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert client.get("/api/scenarios/UPPER").status_code == 400
    assert client.put("/api/scenarios/x", json={"text": "name: [unclosed"}).status_code == 422
    assert not (folder / "x.yaml").exists()
    big = "x" * 1_100_000
    assert client.post("/api/validate", json={"text": big}).status_code == 413
    assert client.post("/api/validate", content=b"\x00\x01not json",
                       headers={"content-type": "application/json"}).status_code == 400
    levels = ["a0: &a0 [x,x,x,x,x,x,x,x,x,x]"] + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join(levels) + "\nname: [*a8]\n"  # "billion laughs": 10^9 nodes if expanded
    started = time.perf_counter()
    response = client.post("/api/validate", json={"text": bomb})
    assert response.status_code == 200 and time.perf_counter() - started < 5
    assert "aliases" in response.json()["problems"][0]["message"]
    # another web site cannot post a form or text (no preflight), nor reach it under another host name
    assert client.post("/api/validate", content=b'{"text": "x"}', headers={"content-type": "text/plain"}).status_code == 415
    assert client.get("/api/scenarios", headers={"host": "evil.example:8000"}).status_code == 400
    assert client.put("/api/scenarios/evil%0A", json={"text": "name: x"}).status_code == 400
    assert client.get("/api/compare", params={"a": "nope", "b": "nope"}).status_code == 422


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture()
def server(tmp_path, folder):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where it can)")
    pytest.importorskip("playwright", reason="playwright is not installed")
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(tmp_path / "s.duckdb", folder), host="127.0.0.1", port=port, log_level="error")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(100):
        if instance.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


def test_dashboard_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"{m.text} at {m.location}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e} {e.stack}"))
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server, "data:", "about:")) else None)
        page.goto(server)
        page.click("#scenarios li[data-name='kosovo-exit']")
        expect(page.locator("#current")).to_have_text("kosovo-exit")
        # an error appears at its line
        text = page.input_value("#editor")
        page.fill("#editor", text.replace("withdraw:", "withdraww:", 1))
        page.click("#validate")
        line = next(i for i, l in enumerate(text.splitlines(), 1) if "withdraw:" in l)
        expect(page.locator(f".problem[data-line='{line}']")).to_be_visible()
        # saving under a new name adds it to the list (validated first); a bad name is refused with a message
        page.fill("#editor", text)
        page.fill("#save-name", "my-copy")
        page.click("#save")
        expect(page.locator("#scenarios li[data-name='my-copy']")).to_have_count(1)
        page.fill("#save-name", "../evil")
        page.click("#save")
        expect(page.locator(".problem")).to_contain_text("not a scenario name")
        # a run completes, appears in the list, and its report draws the map
        page.click("#run")
        expect(page.locator("#runs li")).to_have_count(1, timeout=60_000)
        frame = page.frame_locator("#report")
        expect(frame.locator("#fig-map .main-svg").first).to_be_visible(timeout=60_000)
        assert frame.locator("#fig-map path").count() > 60  # country shapes drawn
        # moving the slider changes what the map shows
        before = frame.locator("#fig-map .scatterlayer").first.inner_html()
        frame.locator("#fig-map rect.slider-rail-touch-rect").first.click(position={"x": 900, "y": 5})
        page.wait_for_timeout(800)
        after = frame.locator("#fig-map .scatterlayer").first.inner_html()
        assert before != after  # shades and site markers of a later phase
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=False)
        browser.close()
    assert errors == [], errors
    assert outside == [], outside
