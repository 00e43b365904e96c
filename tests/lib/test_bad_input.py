"""Bad input to the rule modules: always a GradlibError (a ValueError) that names the rule, the argument
and the shapes involved; never a numpy traceback and never a silently wrong answer."""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from gradlib import (
    GradlibError,
    broadcast_add,
    broadcast_mul,
    check_gradient,
    jacobian,
    matmul,
    matvec,
    mlp,
    reduce_max,
    softmax_xent,
    structure,
    vecmat,
)

ones = np.ones
W34, x4 = ones((3, 4)), ones(4)

# (id, call, args, rule, fragments that must appear in order after "rule: ")
CASES = [
    # softmax_xent: true class t, batch shapes, theta
    ("t out of range", softmax_xent.forward, (ones(5), 7), "softmax_xent",
     ["t=7 is out of range for theta with 5 classes (shape (5,))"]),
    ("t negative", softmax_xent.backward, (ones((1, 5)), -1), "softmax_xent",
     ["t=-1 is out of range for theta with 5 classes (shape (1, 5))"]),
    ("t float", softmax_xent.forward, (ones(5), 1.5), "softmax_xent", ["t must be an integer", "1.5", "(5,)"]),
    ("t integral float", softmax_xent.forward, (ones(5), 2.0), "softmax_xent", ["t must be an integer", "(5,)"]),
    ("t bool", softmax_xent.backward, (ones(5), True), "softmax_xent", ["t must be an integer", "True", "(5,)"]),
    ("t string", softmax_xent.forward, (ones(5), "2"), "softmax_xent", ["t must be an integer", "(5,)"]),
    ("batch t out of range", softmax_xent.forward, (ones((3, 5)), np.array([1, 2, 7])), "softmax_xent",
     ["t[2]=7 is out of range for theta with 5 classes (shape (3, 5))"]),
    ("batch t float", softmax_xent.backward, (ones((2, 5)), np.array([1.0, 2.0])), "softmax_xent",
     ["t must be an integer", "(2, 5)"]),
    ("batch t too short", softmax_xent.forward, (ones((3, 5)), np.array([1, 2])), "softmax_xent",
     ["t is (2,) but theta is (3, 5)", "(N, C)", "(N,)"]),
    ("batch t 2-D", softmax_xent.backward, (ones((3, 5)), np.zeros((3, 1), int)), "softmax_xent",
     ["t is (3, 1) but theta is (3, 5)"]),
    ("t array for one example", softmax_xent.forward, (ones(5), np.array([1, 2])), "softmax_xent",
     ["t is (2,) but theta is (5,)"]),
    ("int t for a batch", softmax_xent.forward, (ones((3, 5)), 1), "softmax_xent",
     ["theta is (3, 5)", "vector", "batch (N, C) needs t of shape (N,)"]),
    ("empty theta", softmax_xent.forward, (np.zeros(0), 0), "softmax_xent", ["theta is empty (shape (0,))"]),
    ("empty batch", softmax_xent.backward, (np.zeros((0, 5)), np.zeros(0, int)), "softmax_xent",
     ["theta is empty (shape (0, 5))"]),
    ("3-D theta", softmax_xent.forward, (ones((2, 2, 2)), 0), "softmax_xent",
     ["theta must be 1-D or 2-D", "(2, 2, 2)"]),
    ("scalar theta", softmax_xent.softmax, (3.0,), "softmax_xent", ["theta must be 1-D or 2-D", "()"]),
    ("nan theta", softmax_xent.forward, (np.array([0.0, np.nan]), 0), "softmax_xent", ["theta", "(2,)", "nan or inf"]),
    ("inf theta", softmax_xent.backward, (np.array([np.inf, 0.0]), 0), "softmax_xent", ["theta", "(2,)", "nan or inf"]),
    ("string theta", softmax_xent.forward, (["a", "b"], 0), "softmax_xent", ["theta must be numeric", "(2,)"]),
    ("ragged theta", softmax_xent.forward, ([[1.0, 2.0], [3.0]], 0), "softmax_xent", ["theta is not an array"]),
    ("empty logsumexp", softmax_xent.logsumexp, (np.zeros((1, 0)),), "softmax_xent", ["theta is empty (shape (1, 0))"]),
    ("onehot out of range", softmax_xent.onehot, (4, 4), "softmax_xent", ["t=4 is out of range", "4 classes"]),
    # matvec
    ("matvec row x", matvec.forward, (W34, ones((1, 4))), "matvec", ["x is (1, 4)", "(m,) or (m, 1)", "vecmat"]),
    ("matvec inner", matvec.forward, (W34, ones(5)), "matvec", ["W is (3, 4) but x is (5,)"]),
    ("matvec inner column", matvec.backward, (ones(3), W34, ones((5, 1))), "matvec", ["W is (3, 4) but x is (5, 1)"]),
    ("matvec W 1-D", matvec.forward, (x4, x4), "matvec", ["W must be 2-D", "(4,)"]),
    ("matvec x matrix", matvec.forward, (W34, ones((4, 2))), "matvec", ["x is (4, 2)", "vector"]),
    ("matvec x 3-D", matvec.forward, (W34, ones((4, 1, 1))), "matvec", ["x must be 1-D or 2-D", "(4, 1, 1)"]),
    ("matvec r length", matvec.backward, (ones(4), W34, x4), "matvec", ["r is (4,) but z = W x has 3 entries"]),
    ("matvec r row length", matvec.backward, (ones((1, 2)), W34, x4), "matvec",
     ["r is (1, 2) but z = W x has 3 entries"]),
    ("matvec r matrix", matvec.backward, (ones((3, 3)), W34, x4), "matvec", ["r is (3, 3)", "vector"]),
    ("matvec r nan", matvec.backward, (np.array([1.0, np.nan, 0.0]), W34, x4), "matvec", ["r", "(3,)", "nan or inf"]),
    ("matvec W inf", matvec.forward, (np.full((3, 4), np.inf), x4), "matvec", ["W", "(3, 4)", "nan or inf"]),
    ("matvec x strings", matvec.forward, (W34, ["a"] * 4), "matvec", ["x must be numeric", "(4,)"]),
    ("matvec x None", matvec.forward, (W34, None), "matvec", ["x must be numeric"]),
    ("matvec empty W", matvec.forward, (ones((0, 4)), x4), "matvec", ["W is empty (shape (0, 4))"]),
    # vecmat
    ("vecmat column x", vecmat.forward, (ones((4, 1)), W34.T), "vecmat", ["x is (4, 1)", "(m,) or (1, m)", "matvec"]),
    ("vecmat inner", vecmat.forward, (x4, W34), "vecmat", ["x is (4,) but W is (3, 4)"]),
    ("vecmat inner row", vecmat.backward, (ones(4), ones((1, 4)), W34), "vecmat", ["x is (1, 4) but W is (3, 4)"]),
    ("vecmat r length", vecmat.backward, (ones((1, 4)), x4, W34.T), "vecmat",
     ["r is (1, 4) but z = x W has 3 entries"]),
    ("vecmat W 3-D", vecmat.forward, (x4, ones((4, 3, 1))), "vecmat", ["W must be 2-D", "(4, 3, 1)"]),
    ("vecmat x nan", vecmat.forward, (np.array([np.nan] * 4), W34.T), "vecmat", ["x", "(4,)", "nan or inf"]),
    # matmul
    ("matmul inner", matmul.forward, (ones((3, 4)), ones((5, 2))), "matmul",
     ["X is (3, 4) but Y is (5, 2); inner dimensions must match"]),
    ("matmul upstream", matmul.backward, (ones((2, 2)), ones((3, 4)), ones((4, 2))), "matmul",
     ["dB is (2, 2) but B = X Y is (3, 2)"]),
    ("matmul upstream transposed", matmul.backward, (ones((2, 3)), ones((3, 4)), ones((4, 2))), "matmul",
     ["dB is (2, 3) but B = X Y is (3, 2)"]),
    ("matmul upstream 1-D", matmul.backward, (ones(6), ones((3, 4)), ones((4, 2))), "matmul",
     ["dB is (6,) but B = X Y is (3, 2)"]),
    ("matmul X vector", matmul.forward, (ones(4), ones((4, 2))), "matmul", ["X must be 2-D", "(4,)"]),
    ("matmul Y 3-D", matmul.forward, (ones((3, 4)), ones((4, 2, 1))), "matmul", ["Y must be 2-D", "(4, 2, 1)"]),
    ("matmul dB nan", matmul.backward, (np.full((3, 2), np.nan), ones((3, 4)), ones((4, 2))), "matmul",
     ["dB", "(3, 2)", "nan or inf"]),
    ("matmul X object", matmul.forward, (np.array([[1, None]], dtype=object), ones((2, 2))), "matmul",
     ["X must be numeric", "(1, 2)"]),
    # broadcast_add
    ("add column y", broadcast_add.forward, (W34, ones((4, 1))), "broadcast_add", ["y is (4, 1)", "(m,) or (1, m)"]),
    ("add y length", broadcast_add.forward, (W34, ones(3)), "broadcast_add",
     ["X is (3, 4) but y is (3,); y needs one entry per column of X"]),
    ("add y row length", broadcast_add.backward, (W34, W34, ones((1, 5))), "broadcast_add",
     ["X is (3, 4) but y is (1, 5)"]),
    ("add y matrix", broadcast_add.forward, (W34, ones((2, 4))), "broadcast_add", ["y is (2, 4)", "vector"]),
    ("add X 1-D", broadcast_add.forward, (x4, x4), "broadcast_add", ["X must be 2-D", "(4,)"]),
    ("add upstream", broadcast_add.backward, (ones((4, 3)), W34, x4), "broadcast_add",
     ["dB is (4, 3) but B = X + y is (3, 4)"]),
    ("add y inf", broadcast_add.forward, (W34, np.array([0, 0, 0, -np.inf])), "broadcast_add",
     ["y", "(4,)", "nan or inf"]),
    # broadcast_mul
    ("mul column y", broadcast_mul.forward, (ones((4, 1)), W34), "broadcast_mul", ["y is (4, 1)", "(m,) or (1, m)"]),
    ("mul y length", broadcast_mul.forward, (ones(3), W34), "broadcast_mul", ["X is (3, 4) but y is (3,)"]),
    ("mul upstream", broadcast_mul.backward, (ones((3, 1)), x4, W34), "broadcast_mul",
     ["dB is (3, 1) but B = y * X is (3, 4)"]),
    ("mul X 3-D", broadcast_mul.forward, (x4, ones((2, 3, 4))), "broadcast_mul", ["X must be 2-D", "(2, 3, 4)"]),
    ("mul X strings", broadcast_mul.forward, (x4, np.full((3, 4), "a")), "broadcast_mul",
     ["X must be numeric", "(3, 4)"]),
    # jacobian
    ("linear M vector", jacobian.linear, (x4,), "jacobian.linear", ["M must be 2-D", "(4,)"]),
    ("linear x length", jacobian.linear(W34), (ones(3),), "jacobian.linear",
     ["x is (3,) but each row of M (3, 4) has 4 entries"]),
    ("linear x row", jacobian.linear(W34).jacobian, (ones((1, 4)),), "jacobian.linear",
     ["x is (1, 4)", "(m,) or (m, 1)"]),
    ("tanh x matrix", jacobian.tanh.jacobian, (ones((2, 3)),), "jacobian.tanh", ["x is (2, 3)", "vector"]),
    ("softmax empty x", jacobian.softmax, (np.zeros(0),), "jacobian.softmax", ["x is empty (shape (0,))"]),
    ("sum_of_squares nan", jacobian.sum_of_squares.jacobian, (np.array([np.nan]),), "jacobian.sum_of_squares",
     ["x", "(1,)", "nan or inf"]),
    ("elementwise bad df", jacobian.elementwise("bad", np.sin, np.sum).jacobian, (ones(3),), "jacobian.bad",
     ["df(x) is () but x is (3,)"]),
    ("softmax_xent map t", jacobian.softmax_xent(5).jacobian, (ones(3),), "softmax_xent",
     ["t=5 is out of range for theta with 3 classes"]),
]


@pytest.mark.parametrize("call, args, rule, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_rule_argument_and_shapes(call, args, rule, fragments):
    pattern = "^" + re.escape(f"{rule}: ") + ".*".join(re.escape(f) for f in fragments)
    with pytest.raises(ValueError, match=pattern) as info:
        call(*args)
    assert isinstance(info.value, GradlibError)  # ours, not a numpy error that happens to be a ValueError


# --- every array argument of every rule, broken each way: found from the rules, not listed ----------

def _nan_at_the_end(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    v.flat[-1] = np.nan
    return v


#: (id, how an argument is broken, words the message must add to "rule: <argument> ... <its shape>")
BREAKS = [
    ("nan", _nan_at_the_end, ["nan or inf"]),
    ("text", lambda v: v.astype(str), ["must be numeric"]),
    ("extra axis", lambda v: np.stack([v, v], axis=-1), []),
    ("every axis one longer", lambda v: np.ones(tuple(s + 1 for s in v.shape)), []),
]


def _good_arguments(rule: str) -> dict[str, np.ndarray]:
    """Good arguments of ``rule``, shaped by its spec at sizes 3, 5, 2 (no two dimensions alike)."""
    if rule == "softmax_xent":  # a batch: theta (3, 5), one class per row
        return {"theta": np.random.default_rng(1).normal(size=(3, 5)), "t": np.array([0, 4, 2])}
    spec = structure.spec(rule)
    shapes = {d.name: size for d, size in zip(spec.dims, (3, 5, 2)[:len(spec.dims)], strict=True)}
    rng = np.random.default_rng(0)
    return {a.name: rng.uniform(0.5, 1.5, size=spec.shape(a.name, shapes)) for a in spec.arrays
            if a.role in ("input", "upstream")}


def _broken_calls():
    """Every array parameter of forward and backward (named by the function's own signature) of each
    two-operand rule and of softmax_xent, broken every way of BREAKS."""
    for module in (matvec, vecmat, matmul, broadcast_add, broadcast_mul, softmax_xent):
        rule = module.__name__.split(".")[-1]
        good = _good_arguments(rule)
        for function in (module.forward, module.backward):
            names = list(inspect.signature(function).parameters)
            for at, name in enumerate(names):
                for break_id, broken, words in BREAKS:
                    if name == "t" or (rule == "softmax_xent" and break_id == "every axis one longer"):
                        continue  # t: the table above; a bigger theta is a valid one
                    args = [broken(good[n]) if k == at else good[n] for k, n in enumerate(names)]
                    yield f"{rule}.{function.__name__} {name} {break_id}", rule, function, args, name, words


BROKEN_CALLS = list(_broken_calls())


@pytest.mark.parametrize("rule, function, args, name, words", [c[1:] for c in BROKEN_CALLS],
                         ids=[c[0] for c in BROKEN_CALLS])
def test_every_array_argument_of_every_rule_is_checked(rule, function, args, name, words):
    """Whichever argument is broken, and however: a GradlibError that starts with the rule, names that
    argument as what is wrong ("W is", "x must", "r of shape") and gives its shape."""
    bad = next(a for a, n in zip(args, inspect.signature(function).parameters, strict=True) if n == name)
    with pytest.raises(GradlibError) as info:
        function(*args)
    message = str(info.value)
    assert message.startswith(f"{rule}: "), message
    assert re.search(rf"(?<![\w.]){re.escape(name)} (is|must|of shape)\b", message), message
    assert str(bad.shape) in message, message
    assert all(word in message for word in words), message



# --- one "an integer but not a bool" check for every size, count, seed and axis ------------------

@pytest.mark.parametrize("value, expected", [
    (3, True), (0, True), (-2, True), (np.int64(3), True), (np.uint8(3), True), (np.int32(-1), True),
    (True, False), (False, False), (np.True_, False), (np.False_, False), (3.0, False), (np.float64(3), False),
    ("3", False), (None, False), (np.array(3), False), ([3], False), (3 + 0j, False),
], ids=repr)
def test_is_int_takes_python_and_numpy_integers_but_no_bool(value, expected):
    from gradlib._validate import is_int
    assert is_int(value) is expected


def _smooth(v):
    return float(np.sum(np.sin(v)))


# Each place that takes an integer through is_int: the call with a value in, the message for a bad value
# (rtol is any number, so only its bools are bad).
INTEGER_ARGUMENTS = [
    ("check_gradient seed", lambda v: check_gradient(_smooth, ones(3), np.cos(ones(3)), seed=v),
     "check_gradient: seed must be an int >= 0, got {!r}"),
    ("check_gradient directions", lambda v: check_gradient(_smooth, ones(3), np.cos(ones(3)), directions=v),
     "check_gradient: directions must be a positive int or None, got {!r}"),
    ("check_gradient rtol", lambda v: check_gradient(_smooth, ones(3), np.cos(ones(3)), rtol=v),
     "check_gradient: rtol must be a finite number >= 0 or None, got {!r}", (True, np.True_)),
    ("structure sizes", lambda v: structure.check_sizes(structure.MATVEC, {"n": v, "m": 2}),
     "structure: n must be an integer, got {!r} for rule matvec"),
    ("mlp.init", lambda v: mlp.init(2, v, 2), "mlp: H must be a positive int, got {!r}"),
    ("reduce_max axis", lambda v: reduce_max.forward(ones((2, 3)), v),
     "reduce_max: axis must be an int, got {!r} for X of shape (2, 3)"),
]


@pytest.mark.parametrize("call, message, bad", [(*c[1:3], c[3] if len(c) > 3 else (True, np.True_, 1.0))
                                               for c in INTEGER_ARGUMENTS], ids=[c[0] for c in INTEGER_ARGUMENTS])
def test_a_bool_is_refused_where_an_integer_is_wanted_and_a_numpy_integer_is_taken(call, message, bad):
    """True is an int to Python (True == 1), so without the check ``seed=True`` or ``n=True`` would run
    with 1; a numpy integer (``np.int64(1)``, what indexing an array gives) is an integer."""
    for value in bad:
        with pytest.raises(GradlibError, match="^" + re.escape(message.format(value)) + "$"):
            call(value)
    call(np.int64(1))
    call(1)
