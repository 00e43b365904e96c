"""Chapter 9's explorer under Node: its step buttons walk the backward pass of gradlib.structure's mlp
spec, each step framing what it reads and writes, no gradient shown before the step that computes it,
and an example entry that reads as few zeros as any."""
from __future__ import annotations

import numpy as np
import pytest

from explorer_view_node import case, run
from gradlib import structure
from structure_cases import entries


@pytest.mark.parametrize("shapes", [structure.MLP.default_shapes, {"N": 1, "D": 1, "H": 1, "C": 1},
                                    {"N": 6, "D": 6, "H": 6, "C": 6}, {"N": 2, "D": 5, "H": 1, "C": 3},
                                    {"N": 6, "D": 1, "H": 4, "C": 2}], ids=lambda s: "x".join(map(str, s.values())))
def test_backward_pass_steps(shapes):
    """Each step frames what it reads and writes; no gradient shows a number before the step that computes
    it (step 1 is the forward pass only); the example entry is one the step writes, nonzero where the
    step writes any nonzero entry; the step buttons stop at the ends."""
    spec = structure.MLP
    answers = run("steps", [case(spec, shapes)])[0]
    arrays = structure.evaluate(spec, structure.inputs(spec, shapes, structure.random_values("mlp")))
    *steps, last = answers
    assert last == {"clamped": len(spec.steps) - 1}
    for k, (step, answer) in enumerate(zip(spec.steps, steps, strict=True)):
        view = answer["step"]
        assert view["text"].startswith(f"Step {k + 1} of {len(spec.steps)}: {step.title}")
        assert step.rule in view["text"] and step.code in view["text"]
        assert (view["first"], view["last"]) == (k == 0, k == len(spec.steps) - 1)
        assert {n for n, r in view["roles"].items() if r == "reads"} == set(step.reads)
        assert {n for n, r in view["roles"].items() if r == "writes"} == set(step.writes)
        later = {n for s in spec.steps[k + 1:] for n in s.writes}
        assert set(answer["pending"]) == later
        if k == 0:
            assert later >= {r.target for r in spec.relations if r.target.startswith("d")}, "step 1: no gradient yet"
        name, index = answer["selected"].split("|")
        assert name == step.writes[0]
        index = tuple(map(int, index.split(",")))
        assert answer["value"] == pytest.approx(arrays[name][index])
        if np.abs(arrays[name]).max() >= 0.005:
            assert abs(arrays[name][index]) >= 0.005, f"step {k + 1} points at a zero of {name} at {shapes}"
        assert answer["caption"].startswith(structure.formula(spec, name, index))
        if later:
            assert "not computed yet (step" in answer["pendingCaption"]


def test_backward_pass_examples_avoid_zero_products():
    """At the chapter's shapes the example of each step reads mostly nonzero entries (no '0.40 × 0.00 + 0.00 × …')."""
    spec = structure.MLP
    shapes = spec.default_shapes
    answers = run("steps", [case(spec, shapes)])[0][:-1]
    arrays = structure.evaluate(spec, structure.inputs(spec, shapes, structure.random_values("mlp")))
    for step, answer in zip(spec.steps, answers, strict=True):
        name, index = answer["selected"].split("|")
        index = tuple(map(int, index.split(",")))
        for candidate in entries(arrays[name].shape):  # no other entry reads fewer zeros
            def zeros(at, name=name):
                lit = structure.lights(spec, shapes, name, at)
                sources = [(n, i) for n, idx in lit.items() for i in idx if any(r.target == name and
                           any(n in t.operands for t in r.terms) for r in spec.relations)]
                return sum(abs(arrays[n][i]) < 0.005 for n, i in sources) / max(len(sources), 1)
            if abs(arrays[name][candidate]) >= 0.005:
                assert zeros(index) <= zeros(candidate) + 1e-12, (step.title, index, candidate)
