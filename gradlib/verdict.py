r"""The verdict of a check: :class:`CheckResult` (its numbers and text) and :func:`verdict`, which judges.

``passed`` iff ``|numerical_j - analytic_j| <= atol_j + rtol * M`` for every entry j (``M`` the largest
entry of either array); ``atol_j`` is the same for every entry when the user gives ``atol``, else
each entry's own rounding floor. This module only judges; the estimates come from
:mod:`gradlib.estimators`, the choice of method from :mod:`gradlib.checker`, and a result's HTML from
:mod:`gradlib.check_view`, imported only when a notebook shows the result.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .diagnosis import diagnose

__all__ = ["CheckResult", "verdict"]


@dataclass(frozen=True, eq=False, repr=False)
class CheckResult:
    """Outcome of :func:`gradlib.check_gradient`; truthy iff the check passed.

    ``numerical`` and ``analytic`` have x's shape and ``worst_index`` (the entry furthest outside its
    tolerance, or nearest to it) indexes x -- except in directional mode (``directions=k``), where
    they are the ``k`` directional derivatives ``J w_k`` (finite differences) and ``analytic . w_k``,
    ``worst_index`` is ``(k,)`` for the worst direction, and ``direction_vectors`` holds the unit
    directions ``w_k`` (shape ``(k, *x.shape)``). ``max_rel_error = max_abs_error / M`` with
    ``M = max(max|numerical|, max|analytic|)`` (normwise); ``passed`` iff every entry's error is
    within :attr:`tolerances`. ``atol`` is the largest absolute floor, ``entry_atol`` each entry's
    (None when one floor serves all). ``method`` is the method actually used, ``calls`` the number of
    calls of f, ``note`` says why ``"auto"`` fell back or re-checked (or what it noticed about f), and
    ``diagnosis`` names the slip on a failing check when the numbers show one (transposed, sign,
    scaled by c, one entry, row or column wrong), else None.
    """

    passed: bool
    method: str
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    numerical: np.ndarray
    analytic: np.ndarray
    rtol: float
    atol: float
    calls: int
    note: str = ""
    direction_vectors: np.ndarray | None = None
    diagnosis: str | None = None
    entry_atol: np.ndarray | None = None

    def __bool__(self) -> bool:
        return self.passed

    def replace(self, **changes: Any) -> CheckResult:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def magnitude(self) -> float:
        """``M = max(max|numerical|, max|analytic|)``."""
        return float(max(np.abs(self.numerical).max(), np.abs(self.analytic).max()))

    @property
    def tolerances(self) -> np.ndarray:
        """Each entry's bound on its error: ``atol_j + rtol * M`` (x's shape)."""
        floor = self.atol if self.entry_atol is None else self.entry_atol
        return np.broadcast_to(floor + self.rtol * self.magnitude, self.numerical.shape)

    @property
    def tolerance(self) -> float:
        """The tolerance of the worst entry (of every entry when one floor serves all)."""
        return float(self.tolerances[self.worst_index])

    @property
    def mismatched(self) -> np.ndarray:
        """Boolean mask of the entries whose error exceeds their tolerance."""
        return np.abs(self.numerical - self.analytic) > self.tolerances

    @property
    def labels(self) -> tuple[str, str]:
        """What an index names and the mode: ``("entry", "")`` or ``("direction", ", k random directions")``."""
        if self.direction_vectors is None:
            return "entry", ""
        return "direction", f", {len(self.numerical)} random directions"

    def __repr__(self) -> str:
        what, mode = self.labels
        lines = [
            f"CheckResult: {'PASS' if self.passed else 'FAIL'} (method {self.method!r}{mode}, "
            f"{self.calls} calls of f)",
            f"  max abs error {self.max_abs_error:.3g} (tolerance {self.tolerance:.3g}), "
            f"max rel error {self.max_rel_error:.3g} (rtol {self.rtol:.3g})",
            f"  worst {what} {self.worst_index}: numerical {float(self.numerical[self.worst_index])!r}, "
            f"analytic {float(self.analytic[self.worst_index])!r}",
        ]
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The result as HTML tables (:func:`gradlib.check_view.check_result_html`; imported here, when
        a notebook shows the result, so that checking loads no view code)."""
        from .check_view import check_result_html

        return check_result_html(self)


def verdict(numerical: np.ndarray, analytic: np.ndarray, method: str, rtol: float, atol: Any, calls: int,
            note: str = "", direction_vectors: np.ndarray | None = None) -> CheckResult:
    """Judge ``numerical`` against ``analytic`` with ``rtol`` and the floor ``atol`` (a number, or
    one per entry); a failing entry-wise check gets a diagnosis."""
    floor = np.broadcast_to(np.asarray(atol, dtype=float), numerical.shape)
    uniform = bool(floor.size == 0 or np.all(floor == floor.flat[0]))
    error = np.abs(numerical - analytic)
    magnitude = float(max(np.abs(numerical).max(), np.abs(analytic).max()))
    tolerances = floor + rtol * magnitude
    passed = bool(np.all(error <= tolerances))
    worst = np.unravel_index(int(np.argmax(error - tolerances)), numerical.shape)
    max_abs = float(error.max())
    return CheckResult(
        passed=passed, method=method, max_abs_error=max_abs,
        max_rel_error=max_abs / magnitude if magnitude > 0 else 0.0, worst_index=tuple(int(i) for i in worst),
        numerical=numerical, analytic=analytic, rtol=rtol, atol=float(floor.max(initial=0.0)), calls=calls,
        note=note, direction_vectors=direction_vectors, entry_atol=None if uniform else np.array(floor),
        diagnosis=None if passed or direction_vectors is not None else diagnose(numerical, analytic, tolerances))
