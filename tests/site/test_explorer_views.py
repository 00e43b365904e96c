"""The explorer's views on the built site, in Chromium, with no kernel and no network: the wiring and
what only a browser can measure.

The Jacobian view (chapters 3-7): the toggle and the input select, one cell per (output entry, input
entry) with the values of gradlib.structure.jacobian, structural zeros marked data-zero, numbers shown
at the chapter's shapes in cells at least 24 x 24 px (390 and 1280 px), pointing at an entry lights the
output's row label, the input entry and what the value is made of, with the caption in the book's form;
the largest Jacobian scrolls inside the explorer. Predict mode (chapters 1-8): the question, picks by
mouse and keyboard, the verdicts after Reveal, marks beside the numbers, legible in light and dark.
Keyboard focus stays inside the explorer after any activation (chapters 3 and 8). The dark theme: no
light panel, contrast at least 4.5. The logic behind all this is tested under Node for every rule and
shape (tests/lib/test_explorer_view.py).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from booksite import EXPLORER_PAGES, contrast
from explorer_checks import cell, key
from gradlib import structure

pytestmark = [pytest.mark.browser, pytest.mark.book]

JACOBIAN_RULES = ["matvec", "vecmat", "matmul", "broadcast_add", "broadcast_mul"]

READ = """(root) => {
  const name = (c) => `${c.dataset.array}|${c.dataset.index}`;
  const cells = Array.from(root.querySelectorAll('.ge-cell[data-array]'));
  return {
    jacobian: cells.filter((c) => c.dataset.array === 'jacobian')
      .map((c) => [c.dataset.index, c.dataset.zero === 'true' ? null : Number(c.dataset.value), c.textContent,
                   c.offsetWidth, c.offsetHeight]),
    lit: cells.filter((c) => c.dataset.lit === 'true').map(name),
    heads: Array.from(root.querySelectorAll('.ge-jac th[data-lit="true"]')).map((th) => th.textContent),
    selected: cells.filter((c) => c.dataset.selected === 'true').map(name),
    guesses: cells.filter((c) => c.dataset.guess === 'true').map(name),
    verdicts: Object.fromEntries(cells.filter((c) => c.dataset.verdict).map((c) => [name(c), c.dataset.verdict])),
    caption: root.querySelector('.ge-caption').textContent,
    score: root.querySelector('.ge-score').textContent,
    titles: Array.from(root.querySelectorAll('.ge-group-title, .ge-toggles-title'),
                       (t) => getComputedStyle(t).textTransform),
  };
}"""

FITS = """(root) => {
  const box = root.getBoundingClientRect(), scroller = root.querySelector('.ge-jac-scroll');
  const s = scroller.getBoundingClientRect();
  return { page: box.right <= window.innerWidth + 1 && document.documentElement.scrollWidth <= window.innerWidth + 1,
           inside: s.left >= box.left - 1 && s.right <= box.right + 1,
           scrolls: scroller.scrollWidth > scroller.clientWidth };
}"""


def shapes_of(root, spec: structure.Spec) -> dict[str, int]:
    return {d.name: int(root.locator(f'input[type=range][data-dim="{d.name}"]').input_value()) for d in spec.dims}


def number(v: float) -> str:
    return f"{0.0 if abs(v) < 0.005 else v:.2f}".replace("-", "−")


# --- the Jacobian view --------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("rule", JACOBIAN_RULES)
def test_jacobian_view(open_explorer, rule, width):
    shown, root = open_explorer(rule, width=width)
    page = shown.page
    spec = structure.spec(rule)
    assert root.locator('[data-array="jacobian"]').count() == 0, "the normal view is the default"
    root.locator('[data-view="jacobian"]').click()
    assert root.get_attribute("data-view") == "jacobian"
    assert root.locator('[data-view="jacobian"]').get_attribute("aria-pressed") == "true"
    shapes = shapes_of(root, spec)
    given = structure.inputs(spec, shapes, structure.random_values(rule))
    upstream = next(a.name for a in spec.arrays if a.role == "upstream")
    for wrt, _ in spec.jacobian_notes:
        root.locator('select[data-control="wrt"]').select_option(wrt)
        pattern, values = structure.jacobian(spec, given, wrt)
        view = root.evaluate(READ)
        assert "none" in set(view["titles"]) and "uppercase" not in set(view["titles"]), "titles keep their case"
        drawn = {tuple(map(int, i.split(","))): (v, text, w, h) for i, v, text, w, h in view["jacobian"]}
        assert set(drawn) == set(itertools.product(*map(range, pattern.shape)))
        for (row, col), (value, text, w, h) in drawn.items():
            assert w >= 24 and h >= 24, f"a {w} x {h} px cell: under the 24 px target size"
            if pattern[row, col]:
                assert value == pytest.approx(values[row, col], abs=1e-12)
                assert text == number(values[row, col]), "every nonzero entry shows its value"
            else:
                assert value is None and text == ""
        # one nonzero entry: its row's output, its column's input, and what it is made of
        row, col = map(int, np.argwhere(pattern)[len(np.argwhere(pattern)) // 2])
        cell(root, "jacobian", (row, col)).hover()
        view = root.evaluate(READ)
        outs = list(itertools.product(*map(range, given[upstream].shape)))
        ins = list(itertools.product(*map(range, given[wrt].shape)))
        z, w = f"{spec.output}[{','.join(map(str, outs[row]))}]", f"{wrt}[{','.join(map(str, ins[col]))}]"
        assert view["selected"] == [f"jacobian|{row},{col}"] and sorted(view["heads"]) == sorted([z, w])
        assert key(wrt, ins[col]) in view["lit"] and not any(k.startswith(f"{upstream}|") for k in view["lit"])
        value = "1" if rule == "broadcast_add" else number(values[row, col])  # a constant: "= 1"
        assert view["caption"].startswith(f"∂{z}/∂{w} = ") and view["caption"].endswith(f"= {value}"), view["caption"]
        zero = np.argwhere(~pattern)
        if zero.size:
            cell(root, "jacobian", tuple(map(int, zero[0]))).hover()
            assert " = 0: " in root.evaluate(READ)["caption"]
    if rule == "matmul":  # the largest: scrolls inside the explorer, the page does not widen
        for dim, size in spec.max_shapes.items():
            root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(size))
        assert root.locator('[data-array="jacobian"]').count() == 36 * 36
        fits = root.evaluate(FITS)
        assert fits["page"] and fits["inside"] and fits["scrolls"], fits
    # keyboard: focus selects a Jacobian entry, arrow keys move along the table
    page.mouse.move(0, 0)
    cell(root, "jacobian", (1, 1)).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert root.evaluate(READ)["selected"] == ["jacobian|2,2"]
    root.locator('[data-view="normal"]').click()
    assert root.locator('[data-array="jacobian"]').count() == 0
    assert shown.uncaught == []


# --- predict mode ---------------------------------------------------------------------------------

def at(root, k: str) -> object:
    name, index = k.split("|")
    return cell(root, name, index.split(","))


@pytest.mark.parametrize("rule", list(EXPLORER_PAGES))
def test_predict_mode(open_explorer, rule):
    shown, root = open_explorer(rule)
    page = shown.page
    spec = structure.spec(rule, root.get_attribute("data-variant") or "")
    shapes = shapes_of(root, spec)
    root.locator('[data-mode="predict"]').click()
    assert root.locator('[data-action="reveal"]').is_visible() and root.locator('[data-action="another"]').is_visible()
    view = root.evaluate(READ)
    [question] = view["selected"]
    name, index = question.split("|")
    entry = f"{spec.array(name).text}[{index}]"
    assert view["lit"] == [] and entry in view["caption"] and view["caption"].startswith("Which entries")
    index = tuple(map(int, index.split(",")))
    truth = {key(n, i) for n, indices in structure.lights(spec, shapes, name, index).items() for i in indices}
    everything = {key(a.name, i) for a in spec.arrays
                  for i in itertools.product(*map(range, spec.shape(a.name, shapes)))}
    others = sorted(everything - truth - {question})
    missed, *picked = sorted(truth)
    extra = others[0]
    for k in [*picked[:2], extra]:
        at(root, k).click()
    at(root, others[-1]).focus()  # pick and unpick with the keyboard
    page.keyboard.press("Enter")
    assert others[-1] in root.evaluate(READ)["guesses"]
    page.keyboard.press("Space")
    assert sorted(root.evaluate(READ)["guesses"]) == sorted([*picked[:2], extra])
    root.locator('[data-action="reveal"]').click()
    view = root.evaluate(READ)
    expected = {**{k: "hit" for k in picked[:2]}, **{k: "miss" for k in truth - set(picked[:2])}, extra: "extra"}
    assert view["verdicts"] == expected
    assert view["score"].startswith(f"{len(picked[:2])} of {len(truth)}")
    assert f"{len(picked[:2])} of {len(truth)}" in view["caption"] and "to ask again" in view["caption"]
    root.locator('[data-action="another"]').click()
    view = root.evaluate(READ)
    assert view["verdicts"] == {} and view["selected"] != [question] and view["caption"].startswith("Which entries")
    root.locator('[data-mode="explore"]').click()
    assert not root.locator('[data-action="reveal"]').is_visible()
    assert root.evaluate(READ)["lit"], "explore mode lights again"
    assert shown.uncaught == []


MARKS = """(root) => Array.from(
  root.querySelectorAll('.ge-cell[data-verdict], .ge-cell[data-guess], .ge-cell[data-selected]'), (c) => {
  const cell = getComputedStyle(c), mark = getComputedStyle(c, '::after'), num = c.querySelector('.ge-num');
  const n = num.getBoundingClientRect(), box = c.getBoundingClientRect();
  return [c.dataset.verdict || (c.dataset.guess ? 'guess' : 'selected'), mark.content, mark.color, mark.backgroundColor,
          cell.outlineStyle, n.right <= box.right - parseFloat(mark.width || 0) + 1 || mark.content === 'none'];
})"""


def rgb(css: str) -> list[float]:
    return [float(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_verdict_marks_are_legible_and_not_colour_alone(open_explorer, theme):
    _, root = open_explorer("broadcast_add", theme=theme)
    root.locator('[data-mode="predict"]').click()  # dy[1]: the column dB[:,1]
    for index in ["0,1", "1,1", "0,0"]:
        cell(root, "dB", index.split(",")).click()
    cell(root, "X", ["2", "2"]).click()
    before = root.evaluate(MARKS)
    root.locator('[data-action="reveal"]').click()
    marks = before + root.evaluate(MARKS)
    kinds = {m[0]: m for m in marks}
    assert set(kinds) == {"guess", "selected", "hit", "miss", "extra"}
    # a ring of its own and a badge glyph of its own per mark: readable without colour
    assert len({m[4] for m in kinds.values()}) == 5, {k: m[4] for k, m in kinds.items()}
    assert len({m[1] for k, m in kinds.items() if k != "selected"}) == 4
    for kind, _, colour, background, _, beside in marks:
        assert beside, f"the {kind} badge covers the number"
        if kind != "selected":
            assert contrast(rgb(colour), rgb(background)) >= 4.5, (theme, kind, colour, background)
    legend = root.locator(".ge-predict-legend")
    assert legend.is_visible() and all(w in legend.text_content() for w in ("picked", "right", "missed", "extra"))


# --- keyboard focus (issue 16, item 5) -------------------------------------------------------------------

INSIDE = "(root) => root.contains(document.activeElement) && document.activeElement !== root"


@pytest.mark.parametrize("rule", ["matvec", "mlp"])
def test_focus_stays_inside_the_explorer(open_explorer, rule):
    """Enter / Space on every button, a keyboard change of every select, arrows on the sliders and cells,
    and chapter 9's last step (where "next" is disabled): focus never falls back to the page."""
    shown, root = open_explorer(rule)
    page = shown.page
    page.mouse.move(0, 0)

    def press(locator, keys: str) -> None:
        locator.focus()
        for k in keys.split():
            page.keyboard.press(k)
            assert root.evaluate(INSIDE), f"focus left the explorer after {k} on {locator}"

    buttons = ['[data-view="jacobian"]', 'select[data-control="wrt"]', '[data-view="normal"]', '[data-mode="predict"]',
               '[data-action="reveal"]', '[data-action="another"]', '[data-mode="explore"]', 'button[data-step="next"]',
               'button[data-step="prev"]']
    for selector in buttons:
        target = root.locator(selector)
        if not target.count():
            continue
        if selector.startswith("select"):
            press(target, "ArrowDown ArrowUp")
        else:
            press(target, "Enter Space")
    for slider in root.locator("input[type=range]").all()[:2]:
        press(slider, "ArrowRight ArrowLeft")
    press(root.locator(".ge-grid .ge-cell").first, "ArrowRight ArrowDown Enter Space")
    if rule == "mlp":  # to the last step with the keyboard: "next" is disabled there
        steps = len(structure.MLP.steps)
        prev, next_ = root.locator('button[data-step="prev"]'), root.locator('button[data-step="next"]')
        while not prev.is_disabled():
            prev.click()
        press(next_, " ".join(["Enter"] * (steps - 1)))
        assert next_.is_disabled() and page.evaluate("document.activeElement.dataset.step") == "prev"
        press(prev, " ".join(["Enter"] * (steps - 1)))
        assert prev.is_disabled() and page.evaluate("document.activeElement.dataset.step") == "next"
    assert shown.uncaught == []


# --- the dark theme (issue 16, item 7) ----------------------------------------------------------------

PANELS = """(root) => {
  const lum = (css) => { const [r, g, b] = css.match(/[\\d.]+/g).map(Number).map((v) => v / 255)
    .map((s) => (s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = (css) => !/rgba\\(.*, 0\\)$/.test(css) && css !== 'transparent';
  const out = { light: [], text: [] };
  let e = root;
  while (e) {
    const s = getComputedStyle(e);
    if (opaque(s.backgroundColor) && lum(s.backgroundColor) > 0.2 && e !== document.documentElement)
      out.light.push(e.className || e.tagName);
    e = e.parentElement;
  }
  for (const el of root.querySelectorAll('*')) {
    const s = getComputedStyle(el);
    if (!el.offsetWidth || el.classList.contains('ge-cell') || el.closest('.ge-cell')) continue;
    if (opaque(s.backgroundColor) && lum(s.backgroundColor) > 0.2 && !el.matches('.ge-scale, .ge-key'))
      out.light.push(el.className || el.tagName);
  }
  return out;
}"""

CELLS = """(root) => Array.from(root.querySelectorAll('.ge-cell:not([data-zero]):not([data-pending])'))
  .filter((c) => c.offsetWidth)
  .map((c) => [getComputedStyle(c).color, getComputedStyle(c).backgroundColor])"""


@pytest.mark.parametrize("rule", ["matvec", "mlp"])
def test_dark_theme_has_no_light_panel(open_explorer, rule):
    shown, root = open_explorer(rule, theme="dark")
    page = shown.page
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    if rule == "matvec":
        root.locator('[data-view="jacobian"]').click()
    assert root.evaluate(PANELS)["light"] == [], "a light panel on the dark page"
    page_colours = page.evaluate("[getComputedStyle(document.body).backgroundColor,"
                                 " getComputedStyle(document.querySelector('.gradlib-explorer')).color]")
    assert contrast(rgb(page_colours[1]), rgb(page_colours[0])) >= 4.5
    cells = root.evaluate(CELLS)
    assert len(cells) > 20
    for colour, background in cells:
        assert contrast(rgb(colour), rgb(background)) >= 4.5, (colour, background)
    assert any(max(rgb(b)) < 64 for _, b in cells), "values near 0 are dark grey on a dark page"
