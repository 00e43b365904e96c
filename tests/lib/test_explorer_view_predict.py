"""The explorer's predict mode under Node: the reader picks the entries they expect to light, Reveal
marks each pick hit, miss or extra exactly against structure.lights and gives the score."""
from __future__ import annotations

import pytest

from explorer_view_node import SPEC_IDS, case, key, lit_keys, run
from gradlib import structure
from structure_cases import ALL_SPECS, entries


def predict_cases(spec: structure.Spec) -> list[tuple[str, list[str], str, set[str]]]:
    """(question, guesses, an entry picked and unpicked, the truth) for the first entry of every array, at
    the default shapes: all but one of the truth picked, plus one entry that is not a dependency."""
    shapes = spec.default_shapes
    everything = sorted(key(a.name, i) for a in spec.arrays for i in entries(spec.shape(a.name, shapes)))
    out = []
    for array in spec.arrays:
        question = key(array.name, entries(spec.shape(array.name, shapes))[-1])
        truth = lit_keys(spec, shapes, array.name, entries(spec.shape(array.name, shapes))[-1])
        others = [k for k in everything if k not in truth and k != question]
        guesses = sorted(truth)[1:] + others[:1]
        out.append((question, guesses, others[-1], truth))
    return out


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_predict_verdicts(spec):
    """The question names its entry; pointing lights nothing; picks (and an unpick) are marked; Reveal
    marks hit / miss / extra exactly against structure.lights, the caption gives the score and says how
    to ask again, and "another entry" asks about the next entry."""
    questions = predict_cases(spec)
    answers = run("predict", [case(spec, spec.default_shapes, question=q, guesses=g, unpicked=u)
                              for q, g, u, _ in questions])
    for (question, guesses, unpicked, truth), answer in zip(questions, answers, strict=True):
        name, index = question.split("|")
        entry = f"{spec.array(name).text}[{index}]"
        assert answer["asked"]["selected"] == question and answer["asked"]["lit"] == 0
        verb = {"depends": f"does {entry} depend on", "feeds": f"does {entry} feed", "linked": f"are linked to {entry}"}
        computed = any(r.target == name for r in spec.relations)
        feeds = any(name in t.operands for r in spec.relations for t in r.terms)
        kind = "linked" if computed and feeds else "depends" if computed else "feeds"
        assert answer["asked"]["caption"].startswith(f"Which entries {verb[kind]}? Click them, then Reveal"), \
            answer["asked"]
        assert answer["pointed"] == {"lit": 0, "selected": question}
        assert answer["picked"]["marks"] == dict.fromkeys(guesses, "guess")
        assert unpicked not in answer["picked"]["marks"]
        expected = {**{k: "hit" for k in truth if k in guesses}, **{k: "miss" for k in truth if k not in guesses},
                    **{k: "extra" for k in guesses if k not in truth}}
        assert answer["revealed"]["marks"] == expected, (spec.rule, question)
        hits = sum(v == "hit" for v in expected.values())
        assert answer["revealed"]["score"].startswith(f"{hits} of {len(truth)}")
        assert answer["revealed"]["caption"].startswith(f"{entry}: {hits} of {len(truth)}")
        assert "to ask again" in answer["revealed"]["caption"]
        assert answer["again"]["selected"] != question and answer["again"]["selected"].split("|")[0] == name or \
            len(entries(spec.shape(name, spec.default_shapes))) == 1
        assert answer["again"]["marks"] == 0 and answer["again"]["caption"].startswith("Which entries")


def test_predict_on_a_jacobian_entry():
    """In the Jacobian view the question can be a Jacobian entry; its truth is what the entry is made of."""
    spec = structure.MATVEC
    answer = run("predict", [case(spec, spec.default_shapes, view="jacobian", wrt="W", question="jacobian|1,6",
                                  guesses=["W|1,2", "x|0"], unpicked="")])[0]
    assert answer["asked"]["caption"].startswith("Which entries are linked to ∂z[1]/∂W[1,2]? Click them, then Reveal")
    assert answer["revealed"]["marks"] == {"W|1,2": "hit", "x|2": "miss", "x|0": "extra"}
    assert answer["revealed"]["score"] == "1 of 2, one missed: x[2], one extra: ∂z[1]/∂W[1,2] is not linked to x[0]"
