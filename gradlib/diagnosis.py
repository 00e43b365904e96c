r"""Naming the slip behind a failing gradient check, from the numbers alone.

With ``N`` the numerical gradient, ``A`` the analytic one and ``tol`` the check's tolerance (so
``|N - true| <= tol`` entry by entry), a hypothesis ``A = P(N)`` *fits* when ``max|A - P(N)| <= tol``
(times ``|c|`` for a scaled ``P``). :func:`diagnose` names the first hypothesis that fits, in this order:

- ``A ~ 0`` everywhere, or ``A ~ 0`` exactly where ``N`` is not (terms left out);
- ``A = N^T`` (square x; for more axes, the last two swapped): transposed;
- ``A = c N`` with ``c = <N, A> / <N, N>`` (least squares), named ``-1`` (sign), ``k`` or ``1/k`` when
  that round factor fits too;
- ``A = N + d`` with ``d`` the mean of ``A - N``: shifted by a constant;
- ``A = N`` except at one entry, in one row or in one column (``|A - N| > tol`` only there); one
  wrong entry is named as such first, however large it is next to the others.

All of it is computed on ``N``, ``A`` and ``tol`` divided by ``max(|N|, |A|)``, so any scale of f
(1e-300 to 1e300) gives the same sentence and no overflow.

Nothing fits (a random error, say): ``None`` -- the diagnosis never makes a claim the numbers do not
show. A check whose numerical gradient is below ``tol`` almost everywhere has nothing to compare a
pattern with and also gets ``None``. :func:`shape_hint` does the same for an analytic gradient
of the wrong shape (x's shape reversed, or an extra batch axis never summed).
"""
from __future__ import annotations

import numpy as np

__all__ = ["diagnose", "shape_hint"]

_LARGEST_ROUND_FACTOR = 10 ** 6


def _entry(index: tuple[int, ...]) -> str:
    return f"({', '.join(map(str, index))}{',' if len(index) == 1 else ''})"


def _round_factor(c: float, fits) -> str | None:
    """``c`` as ``k``, ``-k``, ``1/k`` or ``-1/k`` (k an integer), if that round value fits too."""
    size = abs(c)
    k = round(size) if size >= 1 else round(1 / size) if size > 0 else 0
    if not 1 <= k <= _LARGEST_ROUND_FACTOR:
        return None
    value = (k if size >= 1 else 1 / k) * np.sign(c)
    if not fits(value):
        return None
    return f"{'-' if c < 0 else ''}{k if size >= 1 or k == 1 else f'1/{k}'}"


def _scaled(c: float, fits) -> str:
    name = _round_factor(c, fits)
    if name == "-1":
        return ("sign flipped: the analytic gradient is minus the numerical one (a minus sign lost or "
                "one too many, e.g. e_t - p where p - e_t belongs?)")
    if name is None:
        return (f"scaled by {c:.6g}: the analytic gradient is {c:.6g} times the numerical one everywhere "
                f"(a constant factor wrong or missing?)")
    sign = " and the sign flipped" if c < 0 else ""
    k = name.lstrip("-")
    if k.startswith("1/"):
        n = k[2:]
        return (f"scaled by {name}: the analytic gradient is the numerical one divided by {n}{sign} "
                f"(a mean where a sum belongs, or a missing 1/N?)")
    if k == "2":
        return (f"scaled by {name}: the analytic gradient is 2 times the numerical one{sign} "
                f"(a factor 2 counted twice, or a missing 1/2?)")
    return (f"scaled by {name}: the analytic gradient is {k} times the numerical one{sign} "
            f"(a sum where a mean belongs, or a missing 1/N?)")


def _localized(wrong: np.ndarray) -> str | None:
    """One entry, one row or one column holds every wrong entry (of a 2-D x for rows/columns)."""
    where = np.argwhere(wrong)
    if len(where) == 1:
        return (f"right except entry {_entry(tuple(int(i) for i in where[0]))}: only there is the analytic "
                f"gradient off (a term missing at one entry, such as the -1 of the true class, or x on a kink?)")
    if wrong.ndim != 2:
        return None
    rows, columns = np.unique(where[:, 0]), np.unique(where[:, 1])
    if len(rows) == 1 and wrong.shape[0] > 1:
        return (f"right except row [{rows[0]}, :] ({len(where)} of its {wrong.shape[1]} entries wrong): "
                f"one row of the analytic gradient is off (one example, class or unit handled apart?)")
    if len(columns) == 1 and wrong.shape[1] > 1:
        return (f"right except column [:, {columns[0]}] ({len(where)} of its {wrong.shape[0]} entries "
                f"wrong): one column of the analytic gradient is off (one feature or input handled apart?)")
    return None


def diagnose(numerical: np.ndarray, analytic: np.ndarray, tolerance: float | np.ndarray) -> str | None:
    """One sentence naming the slip if ``analytic`` fits one of the hypotheses above, else None.
    ``tolerance``: one bound for every entry, or one per entry (an array of x's shape)."""
    N, A = np.asarray(numerical, dtype=float), np.asarray(analytic, dtype=float)
    scale = float(max(np.abs(N).max(initial=0.0), np.abs(A).max(initial=0.0)))
    if not 0 < scale < np.inf:
        return None
    N, A, tol = N / scale, A / scale, np.broadcast_to(np.asarray(tolerance, dtype=float) / scale, N.shape)
    error = np.abs(A - N)
    wrong = error > tol
    if not wrong.any() or N.size < 2 or np.count_nonzero(np.abs(N) > tol) < 2:
        return None

    def fits(P: np.ndarray, factor: float = 1.0) -> bool:
        return bool(np.all(np.abs(A - P) <= tol * max(1.0, factor)))

    if np.all(np.abs(A) <= tol):
        return "zero: the analytic gradient is zero but the numerical one is not (never filled in, or overwritten?)"
    if np.count_nonzero(wrong) == 1:  # one entry off, however large next to the others: not a scale
        return _localized(wrong)
    if np.all(np.abs(A[wrong]) <= tol[wrong]):
        return (f"terms left out: the analytic gradient is zero at {np.count_nonzero(wrong)} entries where the "
                f"numerical one is not, and right elsewhere (off-diagonal terms dropped, e.g. a coupled map "
                f"treated as elementwise?)")
    if N.ndim >= 2 and N.shape[-1] == N.shape[-2] and fits(np.swapaxes(N, -1, -2)):
        return ("transposed: the analytic gradient is the transpose of the numerical one "
                "(a product in the wrong order, e.g. x r where the rule is r^T x^T?)")
    c = float(np.vdot(N, A) / np.vdot(N, N))
    if fits(c * N, abs(c)):
        return _scaled(c, lambda value: fits(value * N, abs(value)))
    shift = float(np.mean(A - N))
    if fits(N + shift):
        return (f"shifted by {shift * scale:.6g}: the analytic gradient is the numerical one plus {shift * scale:.6g} "
                f"at every entry (a constant term lost, such as the +1 of d(x log x)/dx = log x + 1?)")
    return _localized(wrong)


def shape_hint(analytic_shape: tuple[int, ...], x_shape: tuple[int, ...]) -> str:
    """A hint to add to the shape error, or ``""``: transposed, or a batch axis never summed."""
    if len(x_shape) >= 2 and tuple(analytic_shape) == tuple(x_shape)[::-1]:
        return "; it looks transposed (analytic.T has x's shape): a product in the wrong order?"
    if len(analytic_shape) == len(x_shape) + 1 and tuple(analytic_shape[1:]) == tuple(x_shape):
        return (f"; it has an extra leading axis of {analytic_shape[0]}: the sum over the batch is missing? "
                f"(analytic.sum(axis=0) has x's shape)")
    if len(analytic_shape) == len(x_shape):
        differ = [a for a, (m, n) in enumerate(zip(analytic_shape, x_shape, strict=True)) if m != n]
        if len(differ) == 1 and x_shape[differ[0]] == 1:
            a = differ[0]
            return (f"; x has 1 where it has {analytic_shape[a]} along axis {a}: the sum over the batch is "
                    f"missing? (analytic.sum(axis={a}, keepdims=True) has x's shape)")
    return ""
