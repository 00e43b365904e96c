"""The Jacobian view of chapters 3-7 (structure.jacobian): the structural zeros and the values it
draws are the true Jacobian of the rule's forward map, gradlib.numerical_jacobian's."""
from __future__ import annotations

import numpy as np
import pytest

from gradlib import GradlibError, structure
from structure_cases import ALL_SPECS, THRESHOLD, forward_jacobian, generic, shape_cases

JACOBIAN_SPECS = [s for s in ALL_SPECS if s.output]


JACOBIAN_CASES = [(s, wrt, shapes) for s in JACOBIAN_SPECS for wrt, _ in s.jacobian_notes for shapes in shape_cases(s)]


@pytest.mark.parametrize("spec,wrt,shapes", JACOBIAN_CASES,
                         ids=[f"{s.rule}-d{w}-{'x'.join(map(str, sh.values()))}" for s, w, sh in JACOBIAN_CASES])
def test_jacobian_view_equals_the_numerical_jacobian_of_forward(spec, wrt, shapes):
    """The drawn zeros and values are the true Jacobian of the rule's forward map (row-major flattening)."""
    given = generic(spec, shapes)
    pattern, values = structure.jacobian(spec, given, wrt)
    measured = forward_jacobian(spec, given, wrt)
    upstream = next(a.name for a in spec.arrays if a.role == "upstream")  # shaped like the output
    assert pattern.shape == measured.shape == (given[upstream].size, given[wrt].size)
    np.testing.assert_array_equal(pattern, np.abs(measured) > THRESHOLD)
    np.testing.assert_allclose(values, measured, atol=1e-7)
    assert not values[~pattern].any()


def test_jacobian_of_matvec_is_sparse_in_W():
    """z = W x: 3 x 12, and z[k] reads row k of W only, so 12 of 36 entries can be nonzero."""
    given = generic(structure.MATVEC, {"n": 3, "m": 4})
    pattern, values = structure.jacobian(structure.MATVEC, given, "W")
    assert pattern.sum() == 12 and pattern.size == 36
    assert values[1, 1 * 4 + 2] == given["x"][2] and not pattern[0, 1 * 4 + 2]


def test_jacobian_of_an_input_without_a_gradient_is_refused():
    given = generic(structure.MATVEC, {"n": 2, "m": 2})
    with pytest.raises(GradlibError, match="structure: matvec has no Jacobian view of 'r'; it has one for W, x"):
        structure.jacobian(structure.MATVEC, given, "r")
    with pytest.raises(GradlibError, match="softmax_xent has no Jacobian view"):
        structure.jacobian(structure.SOFTMAX_XENT, generic(structure.SOFTMAX_XENT, {"C": 3}), "theta")
