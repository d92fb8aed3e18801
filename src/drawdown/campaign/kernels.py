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
def run_chunk(length, d0, a0, theta, v_max, k, l_d, l_a, cap_d, cap_a, air_before, air_after, sead_hours, bp_a, bp_d,
              air_w, hours, incoming, seg_ends, seg_cls, adv, dfn, out_time, out_ratio, out_dloss,
              out_aloss):  # pragma: no cover - compiled
    n = v_max.shape[0]
    m = length.shape[0]
    last_seg = seg_ends.shape[1] - 1
    for s in numba.prange(n):
        for j in range(m):
            attackers = a0[j]
            defenders = d0[j]
            received = d0[j]
            reached = math.inf
            seg = 0
            position = 0.0
            while seg < last_seg and position >= seg_ends[j, seg]:
                seg += 1
            adv_now = adv[s, seg_cls[j, seg]]
            dfn_now = dfn[s, seg_cls[j, seg]]
            if attackers > 0.0:
                broken = False
                for hour in range(1, hours + 1):
                    joined = incoming[hour, j]
                    if joined != 0.0:
                        defenders += joined
                        received += joined
                    rho = attackers / (max(defenders, FLOOR) * theta * dfn_now)
                    position += v_max[s] * adv_now / (1.0 + math.exp(-k[s] * math.log(max(rho, 1e-9))))
                    defenders *= 1.0 - min(l_d[s] * rho, cap_d[s])
                    air_now = air_before[s] if hour <= sead_hours[s] else air_after[s]
                    attackers = max(attackers * (1.0 - min(l_a[s] / max(rho, 1e-9), cap_a[s])) - air_now * air_w[j],
                                    0.0)
                    newly = position >= length[j]
                    if not newly and not broken and 1.0 - defenders / received >= bp_d[s]:
                        broken = True  # the defence gives way: a remnant delays
                        defenders = min(defenders, FLOOR)
                    while seg < last_seg and position >= seg_ends[j, seg]:
                        seg += 1
                    adv_now = adv[s, seg_cls[j, seg]]
                    dfn_now = dfn[s, seg_cls[j, seg]]
                    if newly:
                        reached = float(hour)
                        break
                    if 1.0 - attackers / a0[j] >= bp_a[s]:
                        break  # the attack breaks off: the objective holds
                out_aloss[s, j] = 1.0 - attackers / a0[j]
            else:
                out_aloss[s, j] = 0.0
            out_time[s, j] = reached
            out_ratio[s, j] = attackers / (max(defenders, FLOOR) * theta * dfn_now)
            out_dloss[s, j] = 1.0 - defenders / received


def warm_up() -> None:
    """Compile (or load from cache) with tiny inputs, so that a timed run measures the work only."""
    one = np.ones(1)
    out = [np.empty((1, 1)) for _ in range(4)]
    run_chunk(one * 10, one, one, 3.0, one, one, one * 0.01, one * 0.01, one, one, one * 0.0, one * 0.0, one * 24,
              one * 2, one * 2, one, 2, np.zeros((3, 1)), np.full((1, 1), np.inf), np.full((1, 1), -1, dtype=np.int64),
              np.ones((1, 6)), np.ones((1, 6)), *out)
