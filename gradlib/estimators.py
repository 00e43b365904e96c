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
                nearby) is redone with ``h / 16``.
``complex``     ``Im f(x + i h e_j) / h``: nothing is subtracted, so ``h = 1e-20`` and the error is
                ``~eps |f'|``. 1 call per entry, but right only if ``f`` is holomorphic as written
                (``abs``, ``np.real``, ``float()``, ``conj`` break it *silently*), so
                :func:`checked_complex_step` compares it with real differences along a direction.
``directional`` The same quotients along a unit direction ``u`` instead of ``e_j``: they estimate
                ``J u`` with 1, 2 or 4 calls, whatever the size of x.

The step scales with the entry: ``h_j = c s_j`` with ``s_j = max(1, sqrt|x_j|)``. Functions that
vary on a unit length scale (``sin``, ``tanh``) want a fixed step, power laws one proportional to
``|x|``; the geometric mean serves both. A step must stay well above the float spacing of ``x_j``
(``MIN_STEP_ULPS`` spacings) or ``x_j + h`` rounds back to ``x_j``: such an x is an error. Each
quotient is divided by the step actually taken, ``(x_j + h) - (x_j - h)``, so it is exact for linear f.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._evaluate import ComplexStepInvalid, Evaluator, FloatFunction, check_method
from ._validate import rule_error

__all__ = ["numerical_gradient", "numerical_jacobian"]

EPS = float(np.finfo(np.float64).eps)
METHODS = ("central", "richardson", "complex")
CENTRAL_STEP = EPS ** (1 / 3)  # ~6.1e-6: balances h**2 truncation against eps/h rounding
RICHARDSON_STEP = 2.0 ** -10  # ~9.8e-4, near eps**(1/5): balances h**4 against eps/h
COMPLEX_STEP = 1e-20
MIN_STEP_ULPS = 2.0 ** 12  # a real step below this many float spacings of x_j leaves too few digits
SMALLEST_STEP = {"central": CENTRAL_STEP, "richardson": RICHARDSON_STEP / 2, "complex": RICHARDSON_STEP / 2}
REFINE_TOL = 1e-5  # richardson redoes an entry whose truncation estimate exceeds this * max|R|
REFINE_FACTOR = 16
MAX_REFINE = 12  # steps down to h / 16**12: below that, rounding wins anyway


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
    raise rule_error(ev.rule, f"entry {entry} of x (shape {ev.shape}) is {ev.x0[j]:.3g}: next to |x_j| the smallest "
                        f"real step of method {method!r}, h = {h[j]:.3g}, vanishes (it is {h[j] / spacing[j]:.3g} "
                        f"float spacings of x_j, finite differences need {MIN_STEP_ULPS:.0f}); rescale x")


def central(ev: Evaluator) -> np.ndarray:
    """``(f(x + h e_j) - f(x - h e_j)) / ((x_j + h) - (x_j - h))`` for every j: ``(out.size, x.size)``."""
    h = step_scale(ev.x0) * CENTRAL_STEP
    plus, minus = ev.x0 + h, ev.x0 - h
    values = ev.stencil(zip(plus.tolist(), minus.tolist()))
    return ((values[0::2] - values[1::2]).T / (plus - minus)).reshape(-1, ev.size)


def _richardson_columns(ev: Evaluator, h: np.ndarray, entries: np.ndarray | None = None,
                        noise: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Columns ``entries`` (default: all) of ``D(h/2) - D(h)`` (its size estimates the truncation)
    and of ``R = (4 D(h/2) - D(h)) / 3``, stacked: ``(2, out.size, entries)``, 4 calls per column;
    and each column's rounding noise ``64 eps max|f| / h`` (f at its own 4 points) if ``noise``."""
    x0 = ev.x0 if entries is None else ev.x0[entries]
    h = h if entries is None else h[entries]
    a, b, c, d = x0 + h, x0 - h, x0 + h / 2, x0 - h / 2
    values = ev.stencil(zip(a.tolist(), b.tolist(), c.tolist(), d.tolist()), entries)
    differences = values[0::2] - values[1::2]  # f(x + h) - f(x - h), f(x + h/2) - f(x - h/2), entry by entry
    wide, narrow = differences[0::2].T / (a - b), differences[1::2].T / (c - d)  # D(h), D(h/2)
    both = np.empty((2, narrow.size // len(x0), len(x0)))
    change, jac = both[0], both[1]
    np.subtract(narrow, wide, out=change)
    np.divide(change, 3, out=jac)
    jac += narrow
    return both, _noise(values, h) if noise else None


def _noise(values: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per column, ``64 eps max|f| / h`` over its 4 values (the stencil's, in call order)."""
    return 64 * EPS * np.abs(values).reshape(len(h), -1).max(axis=1, initial=0.0) / h


def term_scale(ev: Evaluator) -> float:
    """``max_j |f''_jj| max|x|``, the size of the terms a gradient of f sums, from richardson's first
    stencil (no new call): ``f(x + h) + f(x - h) - f(x + h/2) - f(x - h/2) = (3/4) h**2 f''_jj + O(h**4)``."""
    if ev.first_richardson is None:
        return 0.0
    values, h = ev.first_richardson
    values = values.reshape(ev.size, 4, -1)
    second = np.abs(values[:, 0] + values[:, 1] - values[:, 2] - values[:, 3]).max(axis=1, initial=0.0)
    return float((second / (0.75 * h * h)).max()) * float(np.abs(ev.x0).max())


def richardson(ev: Evaluator) -> np.ndarray:
    """``R = (4 D(h/2) - D(h)) / 3`` for every j, ``(out.size, x.size)``.

    An entry is *rough* when its truncation estimate ``|D(h/2) - D(h)|`` exceeds ``REFINE_TOL * max|R|``
    (over its output row) and its rounding noise. Rough entries walk down a ladder of steps
    ``h / 16, h / 256, ...`` (4 calls each), keeping at each entry the step with the least error
    estimate ``|D(h/2) - D(h)| + noise``, while the noise of the next step stays below that error:
    a kink or a feature smaller than ``h`` (``inv(X)`` at ``|X| ~ 1e-8``) is stepped under.
    """
    h = step_scale(ev.x0) * RICHARDSON_STEP
    both, _ = _richardson_columns(ev, h, noise=False)
    if not both.size:
        return both[1]
    ev.first_richardson = (ev.last_outputs(), h.copy())
    change, jac = both[0], both[1]  # views: updating an entry updates both
    row_change, row_magnitude = np.maximum.reduce(np.abs(both), axis=2).tolist()  # per output row
    if max(row_change) <= REFINE_TOL * min(row_magnitude):
        return jac  # the common case: every entry is in the asymptotic regime
    noise = _noise(ev.first_richardson[0], h)
    floor = MIN_STEP_ULPS * np.spacing(np.abs(ev.x0)) * 2  # h / 2 must not vanish next to x_j
    rough = (np.abs(change) > REFINE_TOL * np.abs(jac).max(axis=1, keepdims=True)) & (np.abs(change) > noise)
    active = np.flatnonzero(rough.any(axis=0))
    error = np.abs(change).max(axis=0) + noise
    used = h.copy()  # the step of each entry's kept estimate
    for _ in range(MAX_REFINE):
        active = active[h[active] / REFINE_FACTOR >= floor[active]]
        if active.size == 0:
            break
        h[active] /= REFINE_FACTOR
        (finer_change, finer), noise = _richardson_columns(ev, h, active)
        estimate = np.abs(finer_change).max(axis=0) + noise
        better = estimate < error[active]
        jac[:, active[better]], change[:, active[better]] = finer[:, better], finer_change[:, better]
        error[active[better]], used[active[better]] = estimate[better], h[active[better]]
        rough = error[active] > REFINE_TOL * np.abs(jac).max()
        active = active[rough & (noise * REFINE_FACTOR < error[active])]  # a finer step can still help
    ev.finest_step = float((used / step_scale(ev.x0)).min())  # its rounding noise sets the verdict's floor
    return jac


def complex_step(ev: Evaluator) -> np.ndarray:
    """``Im f(x + i h e_j) / h`` for every j, ``(out.size, x.size)``; trusts that f is holomorphic."""
    h = COMPLEX_STEP * np.maximum(1.0, np.abs(ev.x0))
    values = ev.stencil(zip((ev.x0 + 1j * h).tolist()), complex_step=True)
    return (values.T.imag / h).reshape(-1, ev.size)


def random_direction(x0: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """The unit direction ``u = s*g / ||s*g||`` for a draw ``g ~ N(0, I)`` (``s`` the step scale) and
    ``sigma = ||s*g|| / ||g||``: a step ``c sigma u`` moves entry j by ``c s_j g_j / ||g|| <= c s_j``."""
    v = step_scale(x0.reshape(-1)) * g
    norm_v = float(np.linalg.norm(v))
    return v / norm_v, norm_v / float(np.linalg.norm(g))


def _differences(ev: Evaluator, u: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x + h u) - f(x - h u)`` for each ``h`` in ``steps`` (2 calls each), ``(steps, out.size)``,
    and the steps actually taken, ``(x + h u) - (x - h u)``, ``(steps, x.size)``."""
    p = np.multiply.outer(steps, u)
    plus, minus = ev.x0 + p, ev.x0 - p
    values = ev.evaluate(np.stack((plus, minus), axis=1).reshape(-1, ev.size))
    return values[0::2] - values[1::2], plus - minus


def directional(ev: Evaluator, u: np.ndarray, sigma: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``J w`` along the unit ``u`` with 1 (complex), 2 (central) or 4 (richardson) calls, and the
    direction ``w`` (``u`` up to rounding: the steps actually taken) it is exact for when f is linear."""
    if method == "complex":
        h = COMPLEX_STEP * sigma
        return ev.evaluate((ev.x0 + 1j * h * u)[None, :], complex_step=True)[0].imag / h, u
    if method == "central":
        h = CENTRAL_STEP * sigma
        df, dx = _differences(ev, u, np.array([h]))
        return df[0] / (2 * h), dx[0] / (2 * h)
    h = RICHARDSON_STEP * sigma
    (df1, df2), (dx1, dx2) = _differences(ev, u, np.array([h, h / 2]))
    return (4 * df2 / h - df1 / (2 * h)) / 3, (4 * dx2 / h - dx1 / (2 * h)) / 3


@functools.lru_cache(maxsize=4)
def gaussian(seed: int, size: int) -> np.ndarray:
    """``default_rng(seed).standard_normal(size)``, drawn once per (seed, size) (read-only)."""
    g = np.random.default_rng(seed).standard_normal(size)
    g.flags.writeable = False
    return g


def checked_complex_step(ev: Evaluator, seed: int) -> np.ndarray:
    """Complex step, cross-checked along one random direction ``u`` (n + 6 calls, more if needed).

    With central quotients ``D(h), D(h/2), D(h/4)`` along ``u``: ``R1 = (4 D(h/2) - D(h)) / 3`` and
    ``R2 = (4 D(h/4) - D(h/2)) / 3``. Complex step passes if ``|J u - R2| <= 10 |R1 - R2| + noise
    + 1e-9 ||J_i||`` for every output i (``noise = 64 eps max|f| / (h/4)``). If not, the check is
    repeated with ``h / 16, h / 256, ...`` (a feature smaller than h, as for ``inv(X)`` at tiny X)
    while the noise stays below ``1e-2 |J u|``; if no step agrees, f is not holomorphic as written
    and ComplexStepInvalid says so.
    """
    jac = complex_step(ev)
    u, sigma = random_direction(ev.x0, gaussian(seed, ev.size))
    h = 2 * RICHARDSON_STEP * sigma
    smallest = MIN_STEP_ULPS * EPS * max(1.0, float(np.abs(ev.x0).max())) * 4
    for _ in range(MAX_REFINE):
        steps = np.array([h, h / 2, h / 4])
        df, dx = _differences(ev, u, steps)
        d, w = df / steps[:, None] / 2, dx / steps[:, None] / 2  # D(h), D(h/2), D(h/4) and their directions
        r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
        predicted = jac @ ((4 * w[2] - w[1]) / 3)
        noise = 64 * EPS * ev.last_output_scale() / (h / 4)
        bound = 10 * np.abs(r1 - r2) + noise + 1e-9 * np.linalg.norm(jac, axis=1)
        excess = np.abs(predicted - r2) - bound
        if not np.any(excess > 0):
            return jac
        h /= REFINE_FACTOR
        if noise * REFINE_FACTOR > 1e-2 * np.abs(predicted).max(initial=0.0) or h / 4 < smallest:
            break
    i = int(np.argmax(excess))
    raise ComplexStepInvalid(
        f"{ev.rule}: complex step unusable: along a random direction it gives {predicted[i]:.12g} but "
        f"finite differences give {r2[i]:.12g}; f is not holomorphic as written (abs, a comparison, "
        f"np.real, conj, ...); use method 'richardson' or 'auto'")


def jacobian(ev: Evaluator, method: str, seed: int = 0) -> np.ndarray:
    """The ``(out.size, x.size)`` Jacobian by ``method`` (complex step always cross-checked)."""
    require_resolvable_steps(ev, method)
    if method == "complex":
        return checked_complex_step(ev, seed)
    return central(ev) if method == "central" else richardson(ev)


def numerical_jacobian(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference Jacobian ``J[i, j] = d f(x).ravel()[i] / d x.ravel()[j]`` (numerator layout).

    Returns shape ``(f(x).size, x.size)``; ``x`` may have any shape (integers become float64) and is
    never modified. ``method``: ``"central"`` (2 calls of f per entry of x), ``"richardson"`` (4,
    more only where needed) or ``"complex"`` (1, plus 6 to confirm f is holomorphic; a
    GradlibError says why if it is not). Bad input, an x too large for any step, or an f that
    raises or returns nan/inf: GradlibError.
    """
    rule = "numerical_jacobian"
    return jacobian(Evaluator(rule, f, x, scalar=False), check_method(rule, method, METHODS))


def numerical_gradient(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference gradient ``(d f / d x)`` of a scalar-valued ``f``, in x's shape.

    ``f`` must return a scalar (anything of size 1); methods as in :func:`numerical_jacobian`.
    """
    rule = "numerical_gradient"
    method = check_method(rule, method, METHODS)
    ev = Evaluator(rule, f, x, scalar=True)
    return jacobian(ev, method).reshape(ev.shape)

