r"""Is complex step right for this f? Its answer against real differences along a random direction.

Complex step is exact only for f holomorphic *as written*: ``abs``, ``np.linalg.norm``, ``.real``,
``conj``, a comparison at a tie or a Huber loss written with ``abs`` all break it silently. So along
one seeded random unit direction ``u`` the complex-step prediction ``J u`` is compared with real
central quotients ``D(h), D(h/2), D(h/4)`` (6 calls), whose Richardson values are
``R1 = (4 D(h/2) - D(h)) / 3`` and ``R2 = (4 D(h/4) - D(h/2)) / 3``. They *agree* when
``|J u - R2| <= 10 |R1 - R2| + noise + 1e-9 |J|`` (``noise = 64 eps max|f| / (h/4)``).

A disagreement is never explained away by a larger noise bound: a smaller step (``h / 16``, for a
feature of f smaller than h) is tried only while its noise stays below a tenth of the gap it must
explain. If no step agrees, f is not holomorphic as written: :class:`ComplexStepInvalid`. A step
where f is nan or inf (a domain edge) is replaced by a smaller one, never blamed on complex step.

Agreement *confirms* complex step only when the real quotients resolve ``J u``: their uncertainty
``10 |R1 - R2| + noise`` at most a quarter of ``J u``'s size, so that a non-holomorphic f (which
typically errs by a factor, as ``|x| x`` by 2) would show. If the noise hides ``J u`` (a gradient
tiny next to max|f|, ``1 + 1e-12 sum(|x| x)``), steps 16 and 256 times larger are tried, their
truncation estimated the same way; if none resolves it, complex step is not confirmed (``"auto"``
then uses Richardson). A disagreement at a larger step is a disagreement like any other.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._evaluate import ComplexStepInvalid, Evaluator
from .estimators import (
    EPS,
    MAX_REFINE,
    MIN_STEP_ULPS,
    REFINE_FACTOR,
    RICHARDSON_STEP,
    Estimate,
    complex_step,
    differences,
    gaussian,
    random_direction,
)

AGREE, RESOLVED, LARGER = 10.0, 0.25, 2


def agrees_along(ev: Evaluator, predict: Callable[[np.ndarray], np.ndarray], u: np.ndarray, sigma: float,
                 size: np.ndarray) -> bool:
    """Whether the complex-step prediction ``predict(w) = J w`` agrees with real differences along
    ``u`` (``size``: ``|J|`` per output, for the ``1e-9`` allowance); True if that agreement also
    resolves ``J u`` (confirmed), False if the real quotients are too noisy to tell.
    ComplexStepInvalid if they disagree."""
    h = 2 * RICHARDSON_STEP * sigma
    smallest = MIN_STEP_ULPS * EPS * max(1.0, float(np.abs(ev.x0).max())) * 4
    gap = predicted = r2 = None
    larger = 0  # steps taken up, to resolve J u when f's rounding (a large max|f|) hides it
    for _ in range(MAX_REFINE + LARGER):
        steps = np.array([h, h / 2, h / 4])
        df, dx, largest = differences(ev, u, steps)
        if not np.isfinite(df).all():  # a domain edge within h of x: a smaller step, no verdict
            if larger or h / (4 * REFINE_FACTOR) < smallest:
                return False
            h /= REFINE_FACTOR
            continue
        d, w = df / steps[:, None] / 2, dx / steps[:, None] / 2  # D(h), D(h/2), D(h/4) and their directions
        r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
        predicted = predict((4 * w[2] - w[1]) / 3)
        noise = 64 * EPS * largest / (h / 4)
        gap, uncertainty = np.abs(predicted - r2), AGREE * np.abs(r1 - r2) + noise
        if np.all(gap <= uncertainty + 1e-9 * size):
            scale = np.maximum(np.maximum(np.abs(predicted), np.abs(r2)), size / np.sqrt(ev.size))
            if np.all(uncertainty <= RESOLVED * scale):
                return True
            if larger == LARGER or np.any(AGREE * np.abs(r1 - r2) > RESOLVED * scale):
                return False  # noise or truncation hides J u at every step tried: not confirmed
            h, larger = h * REFINE_FACTOR, larger + 1
            continue
        if larger or noise * REFINE_FACTOR > gap.max() / 10 or h / (4 * REFINE_FACTOR) < smallest:
            break  # a finer step could only explain the gap by its own noise
        h /= REFINE_FACTOR
    if gap is None:
        return False
    i = int(np.argmax(gap))
    raise ComplexStepInvalid(ev.rule, f"along a random direction it gives {predicted[i]:.12g} but real differences "
                                      f"give {r2[i]:.12g}; f is not holomorphic (complex-analytic) as written "
                                      f"(abs, norm, np.real, conj, a comparison at a tie, ...)")


def checked_complex_step(ev: Evaluator, seed: int) -> tuple[Estimate, bool]:
    """Complex step (n calls) and whether real differences along one random direction confirm it
    (6 calls, more only near a feature or edge of f); ComplexStepInvalid if they contradict it."""
    estimate = complex_step(ev)
    jac = estimate.values
    u, sigma = random_direction(ev.x0, gaussian(seed, ev.size))
    size = np.abs(jac).max(axis=1) * np.sqrt(ev.size)
    return estimate, agrees_along(ev, lambda w: jac @ w, u, sigma, size)
