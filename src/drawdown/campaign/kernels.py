"""Compiled campaign kernel (Numba): the same equations as the NumPy loop in ``drawdown.campaign.simulate``, one
sample per thread.

Random draws are made by NumPy in the caller, so both backends see identical inputs; results agree to float
rounding (``tests/campaign/test_backends.py``). Numba is imported only when this backend is used.
"""

from __future__ import annotations

import math

import numba
import numpy as np

FLOOR = 0.05  # drawdown.campaign.DEFENDER_FLOOR (kept literal so the kernel compiles without a closure)


@numba.njit(parallel=True, cache=True, fastmath=False, error_model="numpy")
def run_chunk(length, d0, a0, theta, v_max, k, l_d, l_a, cap_d, cap_a, air, hours, incoming,
              out_time, out_ratio, out_dloss, out_aloss):  # pragma: no cover - compiled
    n = v_max.shape[0]
    m = length.shape[0]
    for s in numba.prange(n):
        for j in range(m):
            attackers = a0[j]
            defenders = d0[j]
            received = d0[j]
            reached = math.inf
            if attackers > 0.0:
                position = 0.0
                for hour in range(1, hours + 1):
                    joined = incoming[hour, j]
                    if joined != 0.0:
                        defenders += joined
                        received += joined
                    rho = attackers / (max(defenders, FLOOR) * theta)
                    position += v_max[s] / (1.0 + math.exp(-k[s] * math.log(max(rho, 1e-9))))
                    defenders *= 1.0 - min(l_d[s] * rho, cap_d[s])
                    attackers *= 1.0 - (min(l_a[s] / max(rho, 1e-9), cap_a[s]) + air[s])
                    if position >= length[j]:
                        reached = float(hour)
                        break
                out_aloss[s, j] = 1.0 - attackers / a0[j]
            else:
                out_aloss[s, j] = 0.0
            out_time[s, j] = reached
            out_ratio[s, j] = attackers / (max(defenders, FLOOR) * theta)
            out_dloss[s, j] = 1.0 - defenders / received


def warm_up() -> None:
    """Compile (or load from cache) with tiny inputs, so that a timed run measures the work only."""
    one = np.ones(1)
    out = [np.empty((1, 1)) for _ in range(4)]
    run_chunk(one * 10, one, one, 3.0, one, one, one * 0.01, one * 0.01, one, one, one * 0.0, 2, np.zeros((3, 1)),
              *out)
