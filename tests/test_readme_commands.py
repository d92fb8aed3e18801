"""The README's two commands work from a fresh clone (of the last commit), as a new user would run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from .conftest import ROOT


def test_readme_and_ci_name_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_make_demo_from_a_fresh_clone(tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git, make and a git checkout")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("no commit to clone yet")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "DRAWDOWN_STORE", "DRAWDOWN_DATA")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(["make", "demo"], cwd=clone, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    document = json.loads((clone / "out" / "demo.json").read_text())
    assert {r["scenario"] for r in document["runs"]} == {p.stem for p in (clone / "scenarios").glob("*.yaml")}
    assert (clone / "out" / "results.duckdb").exists()
    assert "US troops by country" in proc.stdout
