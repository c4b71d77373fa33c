"""Choose how many samples of each task type a case keeps, following the configured task mix.

Given the questions available per task type and the shares of the mix, the
composer keeps the largest total ``n`` for which every type's quota fits its
available questions. Quotas come from largest-remainder rounding of
``share * n`` over the types that have questions, with at least one sample of
each available type. Within a type, questions are shuffled by a generator seeded
from the run seed and the case id, then the first ``quota`` are kept, so a re-run
selects the same questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping


def allocate(available: Mapping[str, int], shares: Mapping[str, float]) -> dict[str, int]:
    """Return the number of samples per task type; see the module docstring for the rule."""
    active = {task: shares.get(task, 0.0) for task, count in available.items() if count > 0 and shares.get(task, 0.0) > 0}
    if not active:
        return {task: 0 for task in available}
    total_share = sum(active.values())
    weights = {task: share / total_share for task, share in active.items()}

    for n in range(sum(available[t] for t in active), 0, -1):
        quotas = _round_quotas(weights, n)
        if all(quotas[t] <= available[t] for t in active):
            return {task: quotas.get(task, 0) for task in available}
    return {task: (1 if task in active else 0) for task in available}


def _round_quotas(weights: Mapping[str, float], n: int) -> dict[str, int]:
    exact = {task: weight * n for task, weight in weights.items()}
    quotas = {task: max(1, math.floor(value)) for task, value in exact.items()}
    remaining = n - sum(quotas.values())
    by_remainder = sorted(weights, key=lambda t: (-(exact[t] - math.floor(exact[t])), t))
    for task in by_remainder:
        if remaining <= 0:
            break
        quotas[task] += 1
        remaining -= 1
    return quotas


def select(items: list, quota: int, rng: random.Random) -> list:
    """Return ``quota`` items chosen by a seeded shuffle, in their original order."""
    order = list(range(len(items)))
    rng.shuffle(order)
    keep = sorted(order[:quota])
    return [items[i] for i in keep]
