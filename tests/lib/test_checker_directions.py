"""The checker's directional mode (``directions=k``): a few calls per direction whatever x's size,
wrong gradients caught, the same directions for the same seed.

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
here too.
"""
from __future__ import annotations

import numpy as np
import pytest
from checker_cases import Counter

from gradlib.checker import check_gradient

pytestmark = pytest.mark.filterwarnings("error")


def test_directional_mode_uses_at_most_4_calls_per_direction_whatever_the_size():
    rng = np.random.default_rng(15)
    x = rng.standard_normal(100)
    W = rng.standard_normal((200, 100))
    # complex: 1 call, and 6 more to check along the same direction that f is holomorphic
    for method, per_direction in [("auto", 4), ("richardson", 4), ("central", 2), ("complex", 7)]:
        counted = Counter(lambda W: np.sum(np.tanh(W @ x)))
        result = check_gradient(counted, W, np.outer(1 - np.tanh(W @ x) ** 2, x), directions=5, method=method)
        assert result, result
        assert counted.calls == result.calls == 5 * per_direction
        assert result.numerical.shape == result.analytic.shape == (5,)
        assert result.direction_vectors.shape == (5, 200, 100)
        np.testing.assert_allclose(np.linalg.norm(result.direction_vectors.reshape(5, -1), axis=1), 1.0)
        assert len(result.worst_index) == 1 and 0 <= result.worst_index[0] < 5


def test_directional_mode_catches_wrong_gradients_and_is_reproducible():
    rng = np.random.default_rng(16)
    W, x = rng.standard_normal((50, 50)), rng.standard_normal(50)
    f = lambda W: np.sum(np.tanh(W @ x))  # noqa: E731
    good = np.outer(1 - np.tanh(W @ x) ** 2, x)
    one_off = good.copy()
    one_off[3, 7] += 0.05 * np.abs(good).max()  # one entry wrong shows up ~ 1/sqrt(2500) per direction
    for wrong in (good.T, -good, good / 50, one_off):
        assert not check_gradient(f, W, wrong, directions=3)
    first, again = check_gradient(f, W, good, directions=3), check_gradient(f, W, good, directions=3)
    np.testing.assert_array_equal(first.numerical, again.numerical)
    other = check_gradient(f, W, good, directions=3, seed=1)
    assert not np.array_equal(first.numerical, other.numerical)
    assert "3 random directions" in repr(first) and "worst direction" in repr(first)
