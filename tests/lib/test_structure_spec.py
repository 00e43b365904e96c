"""gradlib.structure's specs are checked, and checked against gradlib, not against themselves.

:func:`structure.validate` runs on every spec at import, so a test that calls it again on the specs
that imported fine cannot fail; instead, each of its checks is fed a spec broken in that one way and
must refuse it, and a fresh interpreter shows that the import validates every spec. Which rules have
a spec, and which offer a Jacobian view, is found in gradlib itself (its modules, their forward and
backward), not listed here; and the functions a spec is compared with must be gradlib's public ones.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import gradlib
from gradlib import GradlibError, structure
from gradlib.structure import Dim, Relation, Step, Term
from structure_cases import ALL_SPECS, SPEC_IDS, generic

MATVEC = structure.MATVEC


def lopsided(spec: structure.Spec) -> dict[str, int]:
    """Every dimension a different size, so two arrays of different dims never share a shape."""
    return {d.name: size for d, size in zip(spec.dims, (2, 3, 4, 5, 6)[:len(spec.dims)], strict=True)}


# --- validate refuses each kind of broken spec -------------------------------------------------------

def _with_array(name: str, **changes) -> tuple:
    return tuple(dataclasses.replace(a, **changes) if a.name == name else a for a in MATVEC.arrays)


def _with_dx(term: Term) -> tuple:
    return (MATVEC.relations[0], Relation("dx", (term,)))


BROKEN = [  # (id, the spec broken in one way, what validate must say)
    ("repeated array", dict(arrays=MATVEC.arrays + MATVEC.arrays[:1]), "structure: matvec: repeated array names"),
    ("unknown role", dict(arrays=_with_array("W", role="weights")),
     "structure: matvec: bad role or dims for Array(name='W'"),
    ("unknown dim", dict(arrays=_with_array("W", dims=("n", "q"))),
     "structure: matvec: bad role or dims for Array(name='W'"),
    ("dim too small", dict(dims=(Dim("n", "rows", 3, high=4), MATVEC.dims[1])), "structure: matvec: dim Dim(name='n'"),
    ("dim from 0", dict(dims=(Dim("n", "rows", 3, low=0), MATVEC.dims[1])), "structure: matvec: dim Dim(name='n'"),
    ("default out of range", dict(dims=(Dim("n", "rows", 9, high=8), MATVEC.dims[1])),
     "structure: n=9 is out of range 1..8 for rule matvec"),
    ("axes of a pattern", dict(relations=_with_dx(Term("i,j->j", ("r", "W")))),
     "structure: matvec: W has 2 axes but 'i,j->j' gives it 'j'"),
    ("letter over two dims", dict(relations=_with_dx(Term("i,ji->j", ("r", "W")))),
     "structure: matvec: letter 'j' of 'i,ji->j' runs over both m and n"),
    ("unknown function", dict(relations=_with_dx(Term("i,ij->j", ("r", "W"), fn="cube"))),
     "structure: matvec: unknown term function 'cube'"),
    ("softmax changes dim", dict(relations=_with_dx(Term("i->j", ("r",), fn="softmax"))),
     "structure: matvec: softmax 'i->j' must keep its dimension"),
    ("mean over no letter", dict(relations=_with_dx(Term("i,ij->j", ("r", "W"), mean_over="k"))),
     "structure: matvec: mean_over 'k' is not a letter of 'i,ij->j''s first operand"),
    ("gate not one-hot", dict(relations=_with_dx(Term("i,ij->j", ("r", "W"), gate="W"))),
     "structure: matvec: gate 'W' must be a one-hot matrix operand of 'i,ij->j'"),
    ("library out of order", dict(library=(structure.Call(gradlib.matvec.backward, ("r", "W", "x"), ("dx", "dW")),)),
     "structure: matvec: its library calls must return the relations' targets, in order"),
    ("step reads nothing", dict(steps=(Step("backward", "chapter 3", "dW = ...", ("z",), ("dW",)),)),
     "structure: matvec: step 'backward' names an unknown array"),
    ("selected entry outside", dict(select=("dW", (3, 0))), r"structure: dW[3,0] is not an entry of dW (shape (3, 4))"),
    ("Jacobian note missing", dict(jacobian_notes=MATVEC.jacobian_notes[:1]),
     "structure: matvec: jacobian_notes must name every differentiated input"),
    ("unknown array", dict(select=("dz", (0,))), "structure: matvec has no array 'dz'"),
]


@pytest.mark.parametrize("changes, message", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_validate_refuses_a_spec_broken_in_one_way(changes, message):
    structure.validate(MATVEC)  # the spec it is broken from is fine ...
    with pytest.raises(GradlibError) as refused:  # ... so the break is what validate names
        structure.validate(dataclasses.replace(MATVEC, **changes))
    assert str(refused.value).startswith(message), str(refused.value)


def test_importing_the_structure_validates_every_spec():
    """A fresh interpreter records each call of parts.validate made while gradlib.structure is imported:
    every spec exactly once (so the specs the other tests use are checked)."""
    probe = """
import sys
checked = []
def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "validate" and frame.f_code.co_filename.endswith("parts.py"):
        spec = frame.f_locals["spec"]
        checked.append(f"{spec.rule}-{spec.variant}" if spec.variant else spec.rule)
sys.setprofile(profile)
import gradlib.structure
sys.setprofile(None)
print(" ".join(checked))
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert sorted(run.stdout.split()) == sorted(SPEC_IDS)


# --- which rules have a spec, and a Jacobian view: found in gradlib ----------------------------------

def rule_modules() -> set[str]:
    """gradlib's rule modules, found in the package: each has a forward and a backward; and jacobian,
    whose maps (tanh, softmax, linear(A)) have them as methods."""
    found = {m.name for m in pkgutil.iter_modules(gradlib.__path__)
             if all(callable(getattr(importlib.import_module(f"gradlib.{m.name}"), f, None))
                    for f in ("forward", "backward"))}
    return found | {"jacobian"}


def test_every_gradlib_rule_has_a_spec():
    """A new rule module without a spec (so without an explorer) fails here."""
    assert len(rule_modules()) >= 10
    assert set(structure.RULES) == rule_modules()
    assert all(hasattr(gradlib, rule) for rule in rule_modules())


def test_every_differentiated_rule_has_a_jacobian_view():
    """A drawn rule whose backward takes an upstream gradient (an array of role upstream), whose module
    has the forward map it differentiates, and whose gradients are plain products (the view reads the
    Jacobian off those; a gate, as gather's, or a function, as max's share, it cannot) offers the
    Jacobian view (``output``); no other does."""
    def plain(spec) -> bool:
        return all(t.fn == "product" and not t.gate for r in spec.relations for t in r.terms)
    offered = {s.rule for specs in structure.SPECS.values() for s in specs if s.output}
    expected = {s.rule for specs in structure.SPECS.values() for s in specs
                if any(a.role == "upstream" for a in s.arrays) and hasattr(getattr(gradlib, s.rule), "forward")
                and plain(s)}
    assert offered == expected and len(offered) >= 5


# --- the library a spec is compared with is gradlib ---------------------------------------------------

@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_the_library_of_a_spec_is_gradlibs_own_public_function(spec):
    """The values test compares a spec with ``spec.library``: that must be gradlib, not a second copy of
    the math. A rule module's backward is named itself; chapter 1's maps and the network are computed
    here through gradlib's public functions and must give the same arrays."""
    module = getattr(gradlib, spec.rule)
    shapes = lopsided(spec)
    inputs = generic(spec, shapes)
    arrays = structure.library(spec, inputs)
    if spec.rule == "jacobian":
        linear = spec.variant == "linear"
        fmap = gradlib.jacobian.linear(inputs["A"]) if linear else getattr(gradlib.jacobian, spec.variant)
        direct = {"f": fmap(inputs["x"]), "J": fmap.jacobian(inputs["x"])}
    elif spec.rule == "mlp":
        params = {name: inputs[name] for name in gradlib.mlp.PARAMS}
        direct = gradlib.mlp.trace(params, inputs["X"], np.argmax(inputs["T"], axis=1))
    else:
        assert [call.function for call in spec.library] == [module.backward]
        return
    for name in (r.target for r in spec.relations):
        np.testing.assert_array_equal(arrays[name], direct[name], err_msg=f"{spec.rule} {name}")


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_each_library_call_returns_exactly_the_arrays_it_names(spec):
    """``structure.library`` names what gradlib returns by position: gradlib's own results must be as many
    as the names, each shaped as the array it is named (every dimension a different size), so none is
    dropped, left over or named after another."""
    shapes = lopsided(spec)
    inputs = generic(spec, shapes)
    arrays = {**structure.params_at(spec, shapes), **inputs}
    for array in spec.arrays:
        if array.onehot and len(array.dims) == 2:
            arrays[array.onehot] = np.argmax(inputs[array.name], axis=1)
    for call in spec.library:
        result = call.function(*(arrays[a] for a in call.args))
        results = result if isinstance(result, tuple) else (result,)
        assert len(results) == len(call.returns), call
        for name, value in zip(call.returns, results, strict=True):
            assert np.shape(value) == spec.shape(name, shapes), f"{spec.rule}: {name}"
            arrays[name] = value
