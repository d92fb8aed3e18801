"""The campaign backends and the benchmark's per-sample baseline give the same answer from the same draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import baseline
from drawdown.campaign import Axis, resolve_backend, simulate
from drawdown.campaign.forces import coefficients

from .test_campaign import BASE

numba_missing = pytest.mark.skipif(resolve_backend("auto") != "numba", reason="numba not installed")


def both(data, axes, seed, samples=500, warning=7.0, days=14, arrivals=None, aircraft=300.0):
    return [simulate(axes, coefficients(data), np.random.default_rng(seed), samples=samples, days=days,
                     warning_days=warning, backend=b, chunk=200, arrivals=arrivals, aircraft=aircraft)
            for b in ("numpy", "numba")]


@numba_missing
@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.floats(20, 400), st.floats(0, 30), st.floats(0, 40)), min_size=1, max_size=4),
       st.floats(0, 20), st.integers(0, 2**31),
       st.lists(st.tuples(st.floats(0, 400), st.integers(0, 3), st.floats(0, 10)), max_size=4))
def test_numba_matches_numpy(data, axes, warning, seed, incoming):
    """Identical times to objective and losses within float rounding, over random forces and reinforcements,
    chunked runs included."""
    from drawdown.campaign import Arrival

    from drawdown.campaign import TERRAIN

    def segments(length, i):  # terrain along the axis: a few segments of varied classes, or none (neutral)
        if i % 3 == 2:
            return ()
        cuts = [length * f for f in (0.1, 0.45, 0.45)]
        return tuple((km, TERRAIN[(i + c) % len(TERRAIN)]) for c, km in enumerate(cuts))

    axes = [Axis(f"a{i}", f"O{i}", length, d, a, segments(length, i)) for i, (length, d, a) in enumerate(axes)]
    arrivals = [Arrival(hour, j % len(axes), power) for hour, j, power in incoming]
    reference, compiled = both(data, axes, seed, warning=warning, arrivals=arrivals)
    assert np.array_equal(reference.time_to_objective, compiled.time_to_objective)
    for name in ("final_ratio", "defender_losses", "attacker_losses"):
        np.testing.assert_allclose(getattr(compiled, name), getattr(reference, name), rtol=1e-12, atol=1e-12)
    assert compiled.extra["backend"] == "numba" and reference.extra["backend"] == "numpy"


@numba_missing
def test_numba_matches_numpy_on_the_rand_case(data):
    reference, compiled = both(data, BASE, seed=11, samples=3000)
    assert np.array_equal(reference.time_to_objective, compiled.time_to_objective)
    assert np.isfinite(reference.time_to_objective).mean() > 0.9  # the case actually falls, so times are compared


def test_per_sample_baseline_is_the_same_model(data):
    """bench/baseline.py (plain Python, one sample at a time) reproduces the engine sample by sample."""
    axes = [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq, a.attackers_bn_eq,
                 ((a.length_km * 0.3, "forest"), (a.length_km * 0.7, "mixed"))) for a in BASE]
    axes += [Axis("held", "Held", 300, 40.0, 5.0, ((150.0, "urban"), (150.0, "river")))]
    for aircraft in (0.0, 3000.0):  # air sorties off, and strong enough to matter
        engine = simulate(axes, coefficients(data), np.random.default_rng(2), samples=200, days=7, warning_days=3,
                          backend="numpy", aircraft=aircraft)
        slow = baseline.simulate(axes, coefficients(data), np.random.default_rng(2), samples=200, days=7,
                                 warning_days=3, aircraft=aircraft)
        assert np.array_equal(engine.time_to_objective, slow)
    assert np.isfinite(slow[:, 0]).any() and np.isinf(slow[:, 2]).all()


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown campaign backend"):
        resolve_backend("cuda")
