"""gradlib.figures: the static figures outline exactly the entries gradlib.structure lights, and their
text is readable: computed from each figure's font sizes, its dpi and the width the page shows it at,
never guessed from a screenshot.

A PNG figure is shown at its pixel width, shrunk to the text column when wider: the column is
672 CSS px on a 1280 px window and 342 on a 390 px phone (measured in Chromium on the built book:
a figure's <img> at each width). Its text of ``s`` points is then ``s * dpi / 72 * shown / png``
CSS px: at least 9 at 1280 px and at least 7 at 390 px.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from gradlib import GradlibError, figures, structure
from structure_cases import ALL_SPECS, SPEC_IDS

COLUMN_PX = {1280: 672, 390: 342}
SMALLEST_PX = {1280: 9, 390: 7}


def smallest_text_px(fig) -> dict[int, float]:
    """{window width: CSS px of the figure's smallest text} (text with something to show)."""
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    width = Image.open(io.BytesIO(figures.grey_png(fig))).width
    return {window: min(sizes) * figures.DPI / 72 * min(1.0, column / width) for window, column in COLUMN_PX.items()}


FIGURES = {
    **{f"{rule}{'-values' if values else ''}": (rule, values) for rule in structure.SPECS
       if rule != "mlp" for values in (False, True)},
}


@pytest.mark.parametrize("name", [*FIGURES, "graph"])
def test_every_figure_text_is_readable_at_1280_and_390_px(name):
    if name == "graph":
        fig = figures.graph()
    else:
        rule, values = FIGURES[name]
        variants = [s.variant for s in structure.SPECS[rule]]
        fig = figures.figure(rule, variant=variants[-1], show_values=values)
    px = smallest_text_px(fig)
    for window, least in SMALLEST_PX.items():
        assert px[window] >= least, f"{name}: smallest text {px[window]:.1f} CSS px at {window} px (at least {least})"


def test_text_size_is_computed_from_font_dpi_and_width():
    """A 12 pt text at 120 dpi is 20 px in the PNG; a 1344 px wide PNG is shown at half size at 1280."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1344 / figures.DPI, 2))
    fig.text(0.5, 0.5, "x", fontsize=12)
    assert smallest_text_px(fig)[1280] == pytest.approx(10.0)
    assert smallest_text_px(fig)[390] == pytest.approx(20 * 342 / 1344)


def test_graph_follows_the_mlp_spec():
    """The graph's chain and shapes come from gradlib.structure's mlp spec."""
    spec = structure.spec("mlp")
    chain, shapes, loss = figures.network_chain()
    made = [step[3] for step in chain]
    assert made[:-1] == [a.text for a in spec.arrays if a.role == "output"]
    assert made[-1] == loss and shapes[loss] == "scalar"
    params = [p for step in chain for p in step[2]]
    assert params[:-1] == [a.text for a in spec.arrays if a.role == "input" and not a.onehot][1:]
    for array in spec.arrays:
        assert shapes[array.text] == "×".join(array.dims)



# --- the figures draw the lights of gradlib.structure ---------------------------------------------

@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_figure_outlines_exactly_the_lit_entries(spec):
    from gradlib.figures import figure
    shapes = spec.default_shapes
    picks = [(r.target, tuple(min(1, s - 1) for s in spec.shape(r.target, shapes))) for r in spec.relations]
    picks.append((spec.arrays[0].name, (0,) * len(spec.arrays[0].dims)))  # an input: what it feeds
    fig = figure(spec.rule, select=picks, variant=spec.variant)
    patches = fig.axes[0].patches
    lit = [p for p in patches if p.get_hatch() == "///"]
    selected = [p for p in patches if p.get_hatch() == "xx"]
    plain = [p for p in patches if p.get_hatch() is None]
    per_row = sum(np.prod(spec.shape(a.name, shapes)) for a in spec.arrays)
    assert len(patches) == per_row * len(picks) and len(selected) == len(picks)
    lit_entries = [v for name, index in picks for v in structure.lights(spec, shapes, name, index).values()]
    assert len(lit) == sum(map(len, lit_entries))
    assert len(plain) == len(patches) - len(lit) - len(selected)
    assert all(p.get_linestyle() == "--" for p in selected) and all(p.get_linewidth() > 2 for p in lit + selected)
    drawn = io.BytesIO()
    fig.savefig(drawn, format="png", dpi=20)  # everything is drawn (cheaply: the capstone's figure is 26 inches tall)
    assert drawn.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_shows_itself_in_jupyter_as_a_png_at_120_dpi():
    from gradlib.figures import figure
    fig = figure("matvec")
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert np.allclose((width, height), 120 * fig.get_size_inches(), atol=1)


def test_figure_arguments_are_checked():
    from gradlib.figures import figure
    with pytest.raises(GradlibError, match="figures: n=7 is out of range 1..6 for rule matvec"):
        figure("matvec", {"n": 7})
    with pytest.raises(GradlibError, match=r"figures: dW\[3,0\] is not an entry of dW"):
        figure("matvec", select=("dW", (3, 0)))
    with pytest.raises(GradlibError, match="unknown rule 'matvek'"):
        figure("matvek")


def test_figure_says_its_labels_are_code_indices():
    """The math counts from 1, the figures' labels from 0: the legend says which, for the first entry picked."""
    from gradlib.figures import figure
    title = figure("matmul", select=[("dX", (1, 2)), ("dY", (2, 0))]).legends[0].get_title().get_text()
    assert title == "Indices count from 0, as in code: dX[1,2] is row 2, column 3 in the math"
    title = figure("softmax_xent", select=("dtheta", (0,))).legends[0].get_title().get_text()
    assert title == "Indices count from 0, as in code: dθ[0] is entry 1 in the math"
