"""The explorer widget of every chapter: a rule's arrays as grids of cells that light up.

>>> from gradlib.explorer import Explorer
>>> Explorer("matvec", n=3, m=4)            # doctest: +SKIP

The reader changes the shapes with sliders and points at an entry; the entries it is computed
from (or, for an input, the entries it feeds) light up and a caption gives the index formula with
the numbers. The view is JavaScript that reads the rule's spec from :mod:`gradlib.structure`, so it
keeps working on the static site with no kernel: its sources are ``gradlib/explorer_js/`` (a pure
view state, ``state.js``, and thin DOM pieces), bundled by esbuild (``make js``) into the one ES
module anywidget loads, ``explorer.js`` (committed: pip and Colab installs have no node). With a
kernel, every change of shape goes to Python and the numbers shown are gradlib's own
(``gradlib.<rule>.backward``, the ``computed`` trait).

Two more ways to look, both in the view alone: the **Jacobian** view (chapters 3-7) draws the rule's
Jacobian flattened to a matrix (:func:`gradlib.structure.jacobian`), and **predict first** lets the
reader pick the entries they expect to light before the answer is revealed.
"""
from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import numpy as np
import traitlets

from gradlib import structure
from gradlib._validate import GradlibError, is_int, rule_error

RULE = "explorer"
_HERE = pathlib.Path(__file__).parent


class Explorer(anywidget.AnyWidget):
    """An explorer of one rule (a gradlib module name); shapes as keyword arguments, e.g. ``n=3``.

    ``variant`` picks chapter 1's map (``"linear"``, ``"tanh"``, ``"softmax"``); ``t`` is
    softmax_xent's true class; ``select=("dW", (1, 2))`` the entry pointed at first.
    """

    _esm = _HERE / "explorer.js"
    _css = _HERE / "explorer.css"

    rule = traitlets.Unicode().tag(sync=True)
    specs = traitlets.List().tag(sync=True)          # structure.as_dict of each variant
    variant = traitlets.Unicode().tag(sync=True)
    shapes = traitlets.Dict().tag(sync=True)         # {dim: size}
    params = traitlets.Dict().tag(sync=True)         # {"t": 2} for softmax_xent
    values = traitlets.Dict().tag(sync=True)         # each given array at its largest shape
    computed = traitlets.Dict().tag(sync=True)       # gradlib's arrays for (variant, shapes, params)
    selection = traitlets.Dict().tag(sync=True)      # {"array": "dW", "index": [1, 2]}

    def __init__(self, rule: str, variant: str = "", *, select: tuple[str, Any] | None = None,
                 seed: int | None = None, **sizes: int) -> None:
        if rule not in structure.SPECS:
            raise rule_error(RULE, f"unknown rule {rule!r}; choose one of {', '.join(structure.RULES)}")
        specs = structure.SPECS[rule]
        names = [s.variant for s in specs]
        if variant and variant not in names:
            raise rule_error(RULE, f"{rule} has no map {variant!r}; choose one of "
                             f"{', '.join(n for n in names if n) or 'none (it has one form)'}")
        spec = structure.spec(rule, variant)
        shapes = {d.name: d.default for s in reversed(specs) for d in s.dims}
        params = {p.name: p.default for p in spec.params}
        for name, size in sizes.items():
            if name in params:
                params[name] = size
            elif name in shapes:
                shapes[name] = size
            else:
                known = ", ".join(d.name for d in spec.dims) + "".join(f" (and its {p.meaning} {p.name})"
                                                                         for p in spec.params)
                raise rule_error(RULE, f"{rule} has no dimension {name!r}; its dimensions are {known}")
        self._check(spec, shapes, params)
        values = structure.random_values(rule, seed)
        target, index = select if select is not None else spec.select
        if select is None:  # the default entry, moved inside small shapes
            index = tuple(min(i, s - 1) for i, s in zip(index, spec.shape(target, shapes), strict=True))
        index = structure.check_entry(spec, shapes, target, index, RULE) if target in [a.name for a in spec.arrays] \
            else _unknown_array(spec, target)
        super().__init__(
            rule=rule, specs=[structure.as_dict(s) for s in specs], variant=spec.variant, shapes=shapes,
            params=params, values={k: v.tolist() for k, v in values.items()},
            selection={"array": target, "index": list(index)})
        self._update()

    # -- what the view shows, as Python sees it -------------------------------------------

    @property
    def spec(self) -> structure.Spec:
        return structure.spec(self.rule, self.variant)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array shown, at the current shapes: the given ones and gradlib's results."""
        given = structure.inputs(self.spec, self.shapes, self.values, self.params)
        return structure.library(self.spec, given, self.params)

    @property
    def lit(self) -> dict[str, set[tuple[int, ...]]]:
        """The entries lit by the current selection (:func:`gradlib.structure.lights`)."""
        return structure.lights(self.spec, self.shapes, self.selection["array"], self.selection["index"])

    # -- keeping the numbers gradlib's -------------------------------------------------------

    @staticmethod
    def _check(spec: structure.Spec, shapes: dict[str, Any], params: dict[str, Any]) -> None:
        structure.check_sizes(spec, shapes, RULE)
        for p in spec.params:
            value, limit = params[p.name], shapes[p.below]
            if not is_int(value) or not 0 <= value < limit:
                raise rule_error(RULE, f"{p.name}={value!r} is out of range 0..{limit - 1} ({p.meaning}, below "
                                 f"{p.below}={limit}) for rule {spec.rule}")

    @traitlets.validate("shapes")
    def _valid_shapes(self, proposal: Any) -> dict[str, int]:
        shapes = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in proposal.value.items()}
        spec = structure.spec(self.rule, self.variant) if self.rule else None
        if spec is not None:
            try:
                self._check(spec, shapes, {p.name: 0 for p in spec.params})
            except GradlibError as error:
                raise traitlets.TraitError(str(error)) from None
        return shapes

    @traitlets.observe("shapes", "variant", "params")
    def _changed(self, change: Any) -> None:
        if self.rule and self.specs:
            self._update()

    def _update(self) -> None:
        """Recompute gradlib's arrays for the current shapes (t kept below C, selection inside)."""
        spec = self.spec
        params = structure.params_at(spec, self.shapes, self.params)
        if params != self.params:
            self.params = params  # observed again; that call does the work
            return
        arrays = self.arrays()
        targets = [c for call in spec.library for c in call.returns]
        self.computed = {"variant": self.variant, "shapes": dict(self.shapes), "params": dict(self.params),
                         "arrays": {name: arrays[name].tolist() for name in targets}}
        array, index = self.selection.get("array"), self.selection.get("index", [])
        if array not in [a.name for a in spec.arrays]:
            array, index = spec.select
        shape = spec.shape(array, self.shapes)
        # strict=False: the selection comes back from the browser, and this is where it is made to fit
        index = [min(int(i), s - 1) for i, s in zip(index, shape, strict=False)]
        if self.selection != {"array": array, "index": index}:
            self.selection = {"array": array, "index": index}


def _unknown_array(spec: structure.Spec, name: str) -> tuple[int, ...]:
    raise rule_error(RULE, f"{spec.rule} has no array {name!r} to select; its arrays are "
                     f"{', '.join(a.name for a in spec.arrays)}")
