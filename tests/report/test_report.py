"""The HTML report: self-contained (nothing fetched when opened), the sections a scenario calls for, the shipped
map, and (where Chromium is installed) that a real browser draws it offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drawdown.report import europe_map

from ..conftest import ROOT


@pytest.fixture(scope="module")
def germany(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "germany.html"
    proc = subprocess.run([sys.executable, "-m", "drawdown", "report", str(ROOT / "scenarios" / "germany-roadmap.yaml"),
                           "-o", str(out), "--store", str(out.parent / "s.duckdb")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout.replace("\n", "")
    return out


def test_the_map_ships_every_ally_in_europe(data):
    shapes = {f["properties"]["iso3"] for f in europe_map()["features"]}
    europe = set(data.groups["nato_europe"]) - {"ISL"} if "nato_europe" in data.groups else set()
    assert europe and europe - {"ISL"} <= shapes  # Iceland lies outside the frame
    assert {"RUS", "BLR", "UKR", "XKX"} <= shapes
    assert "Natural Earth" in europe_map()["source"]


def test_report_is_self_contained(germany):
    page = germany.read_text()
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is inline
    assert not re.search(r"<link[^>]+href=\"https?:", page)
    assert "Plotly.newPlot" in page or "Plotly.react" in page


def test_report_has_the_sections_the_scenario_calls_for(germany):
    page = germany.read_text()
    for anchor in ("map", "troops", "roadmap", "deterrence", "burden", "appendix"):
        assert f'id="{anchor}"' in page, anchor
    assert 'id="campaign"' not in page  # no contingency block, so no campaign chart
    assert "hague_summit_2025" in page and "assumption_roadmap_settings" in page  # appendix lists sources used


def test_campaign_scenario_report(tmp_path, data):
    from drawdown.runner import build_report_document

    page = build_report_document(str(ROOT / "scenarios" / "rand-2016-baltic.yaml"), data, samples=500)
    assert 'id="campaign"' in page and "probability the objective has fallen by day" in page
    assert "rand_rr1253_2016" in page  # the axes and the RAND case's sources are in the appendix
    assert "atp_5_0_2_1_cofm" in page  # and the campaign coefficients'


def test_user_text_is_escaped(tmp_path, data):
    from drawdown.runner import build_report_document

    text = (ROOT / "scenarios" / "kosovo-exit.yaml").read_text()
    evil = tmp_path / "evil.yaml"
    evil.write_text(text.replace("description:", 'description: "<script>alert(1)</script>" #', 1))
    page = build_report_document(str(evil), data)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bad_target_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "drawdown", "report", "no-such-run", "--store",
                           str(tmp_path / "s.duckdb"), "-o", str(tmp_path / "r.html")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs Debian's chromium "
                                              "where it can): the browser test is skipped")
def test_a_browser_draws_the_report_offline(germany, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", germany.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count('class="main-svg"') >= 5  # plotly drew the map and the charts
    assert dom.count("<path") > 100  # country shapes and markers are in the drawn SVG
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1200,1600", f"--screenshot={shot}", germany.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000


def test_a_sweep_report_carries_its_tornados(tmp_path, data):
    from drawdown.runner import build_report_document
    from drawdown.store import Store
    from drawdown.sweep import load_spec, run_sweep

    spec = tmp_path / "s.yaml"
    spec.write_text(f"""name: small
base: {ROOT / 'scenarios' / 'rand-2016-baltic.yaml'}
samples: 200
method: lhs
points: 6
parameters:
  - {{path: campaign.coefficient.movement_efficiency, low: 0.2, high: 0.4}}
  - {{path: contingency.warning_days, low: 0, high: 14}}
outputs: [time_to_objective_hours.Tallinn.p50]
""")
    store = Store(tmp_path / "s.duckdb")
    summary = run_sweep(load_spec(spec), data, store, local=True)
    page = build_report_document(summary["sweep_id"], data, store=store, samples=300)
    assert 'id="sensitivity-0"' in page and "Sensitivity: time_to_objective_hours.Tallinn.p50 depends" in page
