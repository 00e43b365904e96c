r"""Finite-difference estimates of derivatives: central, Richardson, complex step, directional.

Along the flat entry ``x_j`` (``e_j`` its unit vector, ``eps = 2**-52``), Taylor's series
``f(x + h e_j) = f + h f' + h**2 f''/2 + h**3 f'''/6 + ...`` gives three estimates of ``f'``:

``central``     ``D(h) = (f(x + h e_j) - f(x - h e_j)) / 2h``: the even terms cancel, leaving the
                truncation ``h**2 f'''/6``; rounding adds ``~eps |f| / h``. Their sum is smallest
                near ``h = eps**(1/3)``. 2 calls per entry.
``richardson``  ``R = (4 D(h/2) - D(h)) / 3``: the ``h**2`` terms cancel too, leaving
                ``-h**4 f^(5) / 480`` + ``~1.5 eps |f| / h``, smallest near ``h = eps**(1/5)``.
                4 calls per entry; ``|D(h) - D(h/2)| ~ h**2 |f'''| / 8`` estimates the truncation
                for free, and an entry where it is large (a kink or a feature smaller than ``h``
                nearby) is redone with ``h / 16, h / 256, ...``, each entry keeping its best step.
``complex``     ``Im f(x + i h e_j) / h``: nothing is subtracted, so ``h = 1e-20`` and the error is
                ``~eps |f'|``. 1 call per entry, but right only if ``f`` is holomorphic as written
                (:mod:`gradlib.holomorphy` checks that against real differences).
``directional`` The same quotients along a unit direction ``u`` instead of ``e_j``: they estimate
                ``J u`` with 1, 2 or 4 calls, whatever the size of x.

The step scales with the entry: ``h_j = c s_j`` with ``s_j = max(1, sqrt|x_j|)`` (the geometric mean
of a fixed step and one proportional to ``|x_j|``). Where f returns nan or inf (a domain edge
within ``h_j`` of ``x_j``: ``log``, ``sqrt``, ``arcsin``) that entry's step shrinks by 16 until f is
finite. A step must stay above ``MIN_STEP_ULPS`` float spacings of ``x_j`` or ``x_j + h`` rounds
back to ``x_j``: such an x is an error. Each quotient is divided by the step actually taken. Each
estimate comes with its rounding noise ``64 eps_f max|f| / h_j`` per entry, where ``eps_f`` is the
precision of f's values: ``eps``, or ``2**-23`` when every value f returns is a float32 number
(then the steps grow to that precision too).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._evaluate import ComplexStepInvalid, Evaluator
from ._validate import rule_error

EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
METHODS = ("central", "richardson", "complex")
CENTRAL_STEP = EPS ** (1 / 3)  # ~6.1e-6: balances h**2 truncation against eps/h rounding
RICHARDSON_STEP = 2.0 ** -10  # ~9.8e-4, near eps**(1/5): balances h**4 against eps/h
COMPLEX_STEP = 1e-20
MIN_STEP_ULPS = 2.0 ** 12  # a real step below this many float spacings of x_j leaves too few digits
SMALLEST_STEP = {"central": CENTRAL_STEP, "richardson": RICHARDSON_STEP / 2, "complex": RICHARDSON_STEP / 2}
REFINE_TOL = 1e-5  # richardson redoes an entry whose truncation estimate exceeds this * max|R|
PRE_ASYMPTOTIC = 0.1  # ... or this * |R_j|: the step is still above a kink 1e-9 from x_j
REFINE_FACTOR = 16
MAX_REFINE = 12  # steps down to h / 16**12: below that, rounding wins anyway


@dataclass(frozen=True)
class Estimate:
    """A finite-difference Jacobian ``values`` (``(out.size, x.size)``; directional: ``(k,)``) with,
    per entry (direction), the ``step`` taken, its rounding ``noise`` ``64 eps_f max|f| / h``, the
    ``truncation`` estimate ``|D(h/2) - D(h)|`` (richardson), the curvature ``|f''_jj|`` read off the
    stencil (richardson) and the ``precision`` ``eps_f`` of f's values."""

    method: str
    values: np.ndarray
    step: np.ndarray
    noise: np.ndarray
    truncation: np.ndarray | None = None
    curvature: np.ndarray | None = None
    precision: float = EPS


def step_scale(x: np.ndarray) -> np.ndarray:
    """Per-entry step scale ``max(1, sqrt|x|)`` (a new array)."""
    scale = np.abs(x)
    np.maximum(scale, 1.0, out=scale)
    return np.sqrt(scale, out=scale)


def require_resolvable_steps(ev: Evaluator, method: str) -> None:
    """GradlibError naming the first entry of x so large that ``method``'s smallest real step
    ``c s_j`` vanishes next to it: below ``MIN_STEP_ULPS`` float spacings of ``x_j``.

    As ``spacing(x) <= eps |x|``, no entry needs a look while ``|x| <= (c / (MIN_STEP_ULPS eps))**2``
    (4.5e13 for central, 2.9e17 for richardson)."""
    c, values = SMALLEST_STEP[method], ev.x0_values
    largest = max(map(abs, values)) if values is not None and len(values) <= 64 else np.abs(ev.x0).max()
    if largest <= (c / (MIN_STEP_ULPS * EPS)) ** 2:
        return
    h = step_scale(ev.x0) * c
    spacing = np.spacing(np.abs(ev.x0))
    if np.all(h >= MIN_STEP_ULPS * spacing):
        return
    j = int(np.argmax(h < MIN_STEP_ULPS * spacing))
    entry = tuple(int(i) for i in np.unravel_index(j, ev.shape))
    what = "of the real differences that check complex step" if method == "complex" else f"of method {method!r}"
    raise rule_error(ev.rule, f"entry {entry} of x (shape {ev.shape}) is {ev.x0[j]:.3g}: next to |x_j| the smallest "
                        f"real step {what}, h = {h[j]:.3g}, vanishes (it is {h[j] / spacing[j]:.3g} "
                        f"float spacings of x_j, finite differences need {MIN_STEP_ULPS:.0f}); rescale x")


def coarse_precision(values: np.ndarray, distinct: bool = True) -> float:
    """The precision of values that are all float16 (``2**-10``) or all float32 (``2**-23``) numbers
    (real and imaginary parts) and, if ``distinct``, not all the same; else ``EPS``."""
    flat = values.view(np.float64).ravel() if values.dtype.kind == "c" else values.ravel()
    if flat.size < 1 or distinct and (flat.size < 2 or flat.min() == flat.max()):
        return EPS
    with np.errstate(all="ignore"):
        for dtype in (np.float16, np.float32):
            if np.array_equal(flat.astype(dtype), flat):
                return float(np.finfo(dtype).eps)
    return EPS


def precision(ev: Evaluator, values: np.ndarray) -> float:
    """``eps_f`` of f's values: that of float16 or float32 if they and f at one more, generic point near
    x are all such numbers (f computes in low precision), else ``EPS``."""
    if values.size == 0:
        return EPS
    same = bool(np.all(values == values.ravel()[0]))  # f rounds every step to one value (or is constant)
    if coarse_precision(values, distinct=not same) == EPS:
        return EPS
    reach = 1e-2 if same else 1e-7  # a constant f stays constant even this far away
    generic = ev.x0 + reach * np.sqrt(2) * step_scale(ev.x0) * (1 + np.arange(ev.size) % 7 / 7)
    probe = ev(generic.reshape(ev.shape))
    return coarse_precision(np.r_[values.ravel(), probe]) if np.isfinite(probe).all() else EPS


def _values_at(ev: Evaluator, offsets: tuple[float, ...], h: np.ndarray,
               index: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """f at ``x_j + o h_j`` for each offset o, entry by entry: ``(entries, offsets, out.size)``, and
    the points ``(entries, offsets)``."""
    x0 = ev.x0 if index is None else ev.x0[index]
    points = x0[:, None] + np.multiply.outer(h, offsets)
    return ev.stencil(points.tolist(), index).reshape(len(x0), len(offsets), -1), points


def finite_stencil(ev: Evaluator, offsets: tuple[float, ...], h: np.ndarray,
                   index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_values_at` where every value is finite: an entry where f returns nan or inf (a domain
    edge within its step) is redone with ``h_j / 16, h_j / 256, ...``. Also returns the steps used."""
    values, points = _values_at(ev, offsets, h, index)
    bad = ~np.isfinite(values).all(axis=(1, 2))
    if not bad.any():
        return values, points, h
    every = np.arange(ev.size) if index is None else index
    floor = MIN_STEP_ULPS * np.spacing(np.abs(ev.x0[every])) * 2
    h = h.copy()
    for _ in range(MAX_REFINE if not bad.all() else 0):  # f nan or inf near every entry: no edge, an error
        redo = np.flatnonzero(bad & (h / REFINE_FACTOR >= floor))
        if redo.size == 0:
            break
        h[redo] /= REFINE_FACTOR
        values[redo], points[redo] = _values_at(ev, offsets, h[redo], every[redo])
        bad[redo] = ~np.isfinite(values[redo]).all(axis=(1, 2))
        if not bad.any():
            return values, points, h
    raise ev.not_finite(values.reshape(values.shape[0] * len(offsets), -1), index)


def _noise(eps_f: float, values: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per entry, ``64 eps_f max|f| / h_j`` over that entry's values ``(entries, offsets, out)``."""
    return 64 * eps_f * np.abs(values).max(axis=(1, 2), initial=0.0) / h


def central(ev: Evaluator, eps_f: float = EPS) -> Estimate:
    """``(f(x + h e_j) - f(x - h e_j)) / ((x_j + h) - (x_j - h))`` for every j, ``h = eps_f**(1/3) s_j``."""
    h = step_scale(ev.x0) * (CENTRAL_STEP * (eps_f / EPS) ** (1 / 3))
    values, points, h = finite_stencil(ev, (1.0, -1.0), h)
    if eps_f == EPS and (coarse := precision(ev, values)) > EPS:
        return central(ev, coarse)
    jac = (values[:, 0] - values[:, 1]).T / (points[:, 0] - points[:, 1])
    return Estimate("central", jac, h, _noise(eps_f, values, h), precision=eps_f)


def _richardson_columns(ev: Evaluator, h: np.ndarray, index: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """For the entries ``index`` (default all): ``D(h/2) - D(h)`` and ``R = (4 D(h/2) - D(h)) / 3``,
    each ``(out.size, entries)``, the steps used and the raw values ``(entries, 4, out.size)``."""
    values, points, h = finite_stencil(ev, (1.0, -1.0, 0.5, -0.5), h, index)
    wide = (values[:, 0] - values[:, 1]).T / (points[:, 0] - points[:, 1])  # D(h)
    narrow = (values[:, 2] - values[:, 3]).T / (points[:, 2] - points[:, 3])  # D(h/2)
    change = narrow - wide
    return change, narrow + change / 3, h, values


def richardson(ev: Evaluator, eps_f: float = EPS) -> Estimate:
    """``R = (4 D(h/2) - D(h)) / 3`` for every j, ``h = 2**-10 s_j`` (raised for float32 f).

    An entry is *rough* when its truncation estimate ``|D(h/2) - D(h)|`` exceeds its rounding noise
    and either ``REFINE_TOL max|R|`` or a tenth of its own ``|R_j|``: a kink or a feature smaller
    than ``h`` nearby (even one 1e-9 from x_j, where ``R_j`` is tiny and wrong). Rough entries walk
    down the steps ``h / 16, h / 256, ...`` (4 calls each); each keeps the step with the least error
    estimate ``|D(h/2) - D(h)| + noise``, never one where f rounds to the same value at every point,
    and stops once that error is small or the next step's noise exceeds it. Each entry's noise is its
    own step's (one kink loosens one entry).
    """
    h = step_scale(ev.x0) * (RICHARDSON_STEP * (eps_f / EPS) ** 0.2)
    change, jac, h, values = _richardson_columns(ev, h)
    if eps_f == EPS and (coarse := precision(ev, values)) > EPS:
        return richardson(ev, coarse)
    second = np.abs(values[:, 0] + values[:, 1] - values[:, 2] - values[:, 3]).max(axis=1, initial=0.0) / (0.75 * h * h)
    noise = _noise(eps_f, values, h)
    error = np.abs(change).max(axis=0, initial=0.0) + noise
    wanted = REFINE_TOL * np.abs(jac).max(initial=0.0)  # the truncation that matters next to max|R|...
    wanted = np.minimum(wanted, PRE_ASYMPTOTIC * np.abs(jac).max(axis=0, initial=0.0))  # ...or next to R_j itself
    active = np.flatnonzero((error - noise > wanted) & (error - noise > noise))
    floor = MIN_STEP_ULPS * np.spacing(np.abs(ev.x0)) * 2  # h / 2 must not vanish next to x_j
    used, last = h.copy(), error - noise  # each entry's kept step; its latest truncation estimate
    reach = 1e-2 * np.abs(jac).max(initial=0.0)  # no step whose noise is above this helps anyone
    for _ in range(MAX_REFINE):
        active = active[h[active] / REFINE_FACTOR >= floor[active]]
        if active.size == 0:
            break
        h[active] /= REFINE_FACTOR
        finer_change, finer, h[active], finer_values = _richardson_columns(ev, h[active], active)
        finer_noise = _noise(eps_f, finer_values, h[active])
        truncation = np.abs(finer_change).max(axis=0, initial=0.0)
        estimate = truncation + finer_noise
        # smooth: the truncation estimate falls ~256x a step; if it did not even fall 4x, the step is
        # still above a kink or feature: the kept estimate is then off by at least its gap to this one
        settling = truncation < last[active] / 4
        last[active] = truncation
        gap = np.abs(finer - jac[:, active]).max(axis=0, initial=0.0)
        error[active] = np.where(settling, error[active], np.maximum(error[active], gap))
        flat = np.all(finer_values == finer_values[:, :1], axis=(1, 2))  # f rounds to one value there
        better = (estimate < error[active]) & ~flat
        keep = active[better]
        jac[:, keep], change[:, keep] = finer[:, better], finer_change[:, better]
        error[keep], noise[keep], used[keep] = estimate[better], finer_noise[better], h[keep]
        room = np.where(settling, error[active], np.maximum(error[active], reach))
        active = active[(error[active] - noise[active] > wanted[active]) & (finer_noise * REFINE_FACTOR < room) & ~flat]
    return Estimate("richardson", jac, used, noise, np.abs(change).max(axis=0, initial=0.0), second, eps_f)


def complex_step(ev: Evaluator) -> Estimate:
    """``Im f(x + i h e_j) / h`` for every j, ``h = 1e-20 max(1, |x_j|)`` (up to ``1e-8 max(1, |x_j|)``
    if ``Im f`` would underflow, for f ~ 1e-300); trusts that f is holomorphic. Noise ``64 eps max|f|``."""
    h = COMPLEX_STEP * np.maximum(1.0, np.abs(ev.x0))
    values = ev.stencil(zip((ev.x0 + 1j * h).tolist()), complex_step=True).reshape(ev.size, -1)
    largest = float(np.abs(values.imag).max(initial=0.0))
    if 0 < largest < 1e-290:  # Im f near the subnormal range: a larger step, its h**2 error still ~1e-16
        h *= min(1e12, 1e-290 / largest)
        values = ev.stencil(zip((ev.x0 + 1j * h).tolist()), complex_step=True).reshape(ev.size, -1)
    if coarse_precision(values) > EPS:
        raise ComplexStepInvalid(ev.rule, "f computes in single precision (its values are complex64 numbers)")
    noise = np.full(ev.size, 64 * EPS * float(np.abs(values.real).max(initial=0.0)))
    return Estimate("complex", values.T.imag / h, h, noise)


def random_direction(x0: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """The unit direction ``u = s*g / ||s*g||`` for a draw ``g ~ N(0, I)`` (``s`` the step scale) and
    ``sigma = ||s*g|| / ||g||``: a step ``c sigma u`` moves entry j by ``c s_j g_j / ||g|| <= c s_j``."""
    v = step_scale(x0.reshape(-1)) * g
    norm_v = float(np.linalg.norm(v))
    return v / norm_v, norm_v / float(np.linalg.norm(g))


@functools.lru_cache(maxsize=4)
def gaussian(seed: int, size: int) -> np.ndarray:
    """``default_rng(seed).standard_normal(size)``, drawn once per (seed, size) (read-only)."""
    g = np.random.default_rng(seed).standard_normal(size)
    g.flags.writeable = False
    return g


def differences(ev: Evaluator, u: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``f(x + h u) - f(x - h u)`` for each ``h`` in ``steps`` (2 calls each), ``(steps, out.size)``
    (nan where f is), the steps actually taken ``(x + h u) - (x - h u)``, ``(steps, x.size)``, and
    ``max|f|`` over these calls."""
    p = np.multiply.outer(steps, u)
    plus, minus = ev.x0 + p, ev.x0 - p
    values = ev.evaluate(np.stack((plus, minus), axis=1).reshape(-1, ev.size))
    return values[0::2] - values[1::2], plus - minus, float(np.abs(values).max(initial=0.0))


def directional(ev: Evaluator, u: np.ndarray, sigma: float, method: str) -> tuple[np.ndarray, np.ndarray, float]:
    """``J w`` along the unit ``u`` with 1 (complex), 2 (central) or 4 (richardson) calls, the
    direction ``w`` (``u`` up to rounding: the steps actually taken) it is exact for when f is
    linear, and its rounding noise (``64 eps max|f| / h``; complex: ``64 eps max|f|``)."""
    if method == "complex":
        h = COMPLEX_STEP * sigma
        value = ev.evaluate((ev.x0 + 1j * h * u)[None, :], complex_step=True)[0]
        largest = float(np.abs(value.imag).max(initial=0.0))
        if 0 < largest < 1e-290:  # as in complex_step: keep Im f out of the subnormal range
            h *= min(1e12, 1e-290 / largest)
            value = ev.evaluate((ev.x0 + 1j * h * u)[None, :], complex_step=True)[0]
        return value.imag / h, u, 64 * EPS * float(np.abs(value.real).max(initial=0.0))
    if method == "central":
        h = CENTRAL_STEP * sigma
        df, dx, largest = differences(ev, u, np.array([h]))
        estimate = df[0] / (2 * h), dx[0] / (2 * h)
    else:
        h = RICHARDSON_STEP * sigma
        (df1, df2), (dx1, dx2), largest = differences(ev, u, np.array([h, h / 2]))
        estimate = (4 * df2 / h - df1 / (2 * h)) / 3, (4 * dx2 / h - dx1 / (2 * h)) / 3
    if not np.isfinite(estimate[0]).all():
        raise rule_error(ev.rule, f"f returned nan or inf near x of shape {ev.shape} along a random direction; "
                                  f"the checker needs finite values near x")
    return estimate[0], estimate[1], 64 * EPS * largest / h
