"""The campaign model written the straightforward way: one sample at a time, one axis at a time, plain floats.

It is the yardstick for ``make bench`` (the vectorised engine must be >= 100x faster) and a second, independent
transcription of the equations in ``docs/models/campaign.md``: ``tests/campaign/test_backends.py`` checks that it
gives the engine's answer sample by sample from the same draws.
"""

from __future__ import annotations

import math

import numpy as np

from drawdown.campaign import DEFENDER_FLOOR, Axis, Coefficient, posture_ratio


def draws(coefficients: dict[str, Coefficient], rng: np.random.Generator, samples: int) -> dict[str, np.ndarray]:
    """The coefficient draws the engine makes for one chunk of ``samples`` (same order, same generator calls)."""
    return {name: c.sample(rng, samples) for name, c in sorted(coefficients.items())}


def one_sample(axes: list[Axis], drawn: dict[str, float], theta: float, hours: int, aircraft: float = 0.0) -> list[float]:
    """Hours until each axis's objective falls (inf if it holds) for one sample's coefficients."""
    v_max = drawn["march_speed_kmh"] * drawn["movement_efficiency"]
    k = drawn["advance_steepness"]
    l_d, l_a = drawn["defender_loss_per_day"] / 24, drawn["attacker_loss_per_day"] / 24
    cap_d, cap_a = drawn["defender_loss_cap"] / 24, drawn["attacker_loss_cap"] / 24
    # NATO air sorties: battalion-equivalents destroyed per hour across the theatre, before and after the
    # adversary's air defences are suppressed
    sorties = (aircraft + drawn["air_allied_aircraft"]) * drawn["air_sorties_per_aircraft_day"]
    kills = sorties * drawn["air_ground_attack_share"] * drawn["air_kills_per_sortie"] / drawn["air_vehicles_per_bn_eq"]
    air_before = kills / 24 * (1.0 - drawn["air_effect_lost_before_sead"])
    air_after = kills / 24 * (1.0 - drawn["air_effect_lost_after_sead"])
    sead_hours = drawn["air_sead_days"] * 24
    total_attack = sum(a.attackers_bn_eq for a in axes)
    bp_a, bp_d = drawn.get("attacker_breakpoint_loss", 2.0), drawn.get("defender_breakpoint_loss", 2.0)
    mixed = drawn.get("terrain_defence_mixed", 1.0)

    def terrain(axis: Axis, position: float) -> tuple[float, float]:
        """(advance factor, defence factor relative to mixed ground) where the front is."""
        if not axis.segments:
            return 1.0, 1.0
        end = 0.0
        for km, cls in axis.segments:
            end += km
            if position < end:
                break
        return drawn.get(f"terrain_advance_{cls}", 1.0), drawn.get(f"terrain_defence_{cls}", 1.0) / mixed

    times = []
    for axis in axes:
        if axis.attackers_bn_eq <= 0:
            times.append(math.inf)
            continue
        attackers, a0 = axis.attackers_bn_eq, axis.attackers_bn_eq
        defenders = max(axis.defenders_bn_eq, DEFENDER_FLOOR)
        received = defenders
        position, reached, broken = 0.0, math.inf, False
        for hour in range(1, hours + 1):
            advance, defence = terrain(axis, position)
            rho = attackers / (max(defenders, DEFENDER_FLOOR) * theta * defence)
            position += v_max * advance / (1.0 + max(rho, 1e-9) ** -k)
            if position >= axis.length_km:
                reached = float(hour)
                break
            defenders *= 1.0 - min(l_d * rho, cap_d)
            share = axis.attackers_bn_eq / total_attack
            air = (air_before if hour <= sead_hours else air_after) * share
            attackers = max(attackers * (1.0 - min(l_a / max(rho, 1e-9), cap_a)) - air, 0.0)
            if not broken and 1.0 - defenders / received >= bp_d:
                broken, defenders = True, min(defenders, DEFENDER_FLOOR)
            if 1.0 - attackers / a0 >= bp_a:
                break  # the attack breaks off
        times.append(reached)
    return times


def simulate(axes: list[Axis], coefficients: dict[str, Coefficient], rng: np.random.Generator, *, samples: int,
             days: int, warning_days: float, aircraft: float = 0.0) -> np.ndarray:
    """(samples, axes) hours to each objective; one chunk only, so draws match the engine for samples <= chunk."""
    theta = posture_ratio(warning_days, coefficients)
    drawn = draws(coefficients, rng, samples)
    out = np.empty((samples, len(axes)))
    for s in range(samples):
        out[s] = one_sample(axes, {name: float(values[s]) for name, values in drawn.items()}, theta, days * 24,
                            aircraft)
    return out
