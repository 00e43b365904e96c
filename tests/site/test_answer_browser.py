"""The answer boxes on the built site, in Chromium, with no kernel and no network.

On chapters 3 and 5 the first box is found by its DOM contract (root .gradlib-answer with data-scope,
input[data-answer], [data-action=check], [data-verdict] in an aria-live region); right, transposed,
sign-flipped, scaled and malformed answers are typed (Enter and the button) and the verdict must be
there within a second and say the slip. Hostile text gives an `error` and leaves the page as it was.
Screenshots of a box at 390 and 1280 px, light and dark, go to _build/screenshots/.
"""
from __future__ import annotations

import pytest

from booksite import contrast, widget_models

pytestmark = [pytest.mark.browser, pytest.mark.book]

ANSWER = "gradlib.answer.Answer"  # the answer box's _anywidget_id (the boxes' weight: test_built_html.py)
FIRST = {
    "chapters/03_matvec.html": ({"r": [3], "x": [4], "W": [3, 4]}, "r (3,), x (4,), W (3, 4) — type dL/dW", {
        "np.outer(r, x)": ("pass", "your answer equals dL/dW"),
        "r[:, None] * x": ("pass", "your answer equals dL/dW"),
        "np.outer(x, r)": ("fail", "your answer has shape (4, 3) but dL/dW is (3, 4): transposed?"),
        "-np.outer(r, x)": ("fail", "sign flipped"),
        "np.outer(r, x) * 2": ("fail", "scaled by 2"),
        "np.outer(r, x) / 4": ("fail", "scaled by 1/4"),
        "x @ r": ("error", "x @ r: (4,) and (3,) do not match"),
        "np.outer(r, x": ("error", "ends too early"),
    }),
    "chapters/05_matmul.html": ({"G": [4, 2], "X": [4, 3], "Y": [3, 2]}, "G (4, 2), X (4, 3), Y (3, 2) — type dL/dX", {
        "G @ Y.T": ("pass", "your answer equals dL/dX"),
        "(Y @ G.T).T": ("pass", "your answer equals dL/dX"),
        "Y @ G.T": ("fail", "your answer has shape (3, 4) but dL/dX is (4, 3): transposed?"),
        "-G @ Y.T": ("fail", "sign flipped"),
        "2 * G @ Y.T": ("fail", "scaled by 2"),
        "G @ Y.T / 4": ("fail", "scaled by 1/4"),
        "G @ Y": ("error", "G @ Y: (4, 2) and (3, 2) do not match"),
        "G @@ Y": ("error", "unexpected '@'"),
    }),
}
CAPSTONE = "chapters/09_backprop_mlp.html"  # the lab: one box per line of the backward pass
LAB_LINES = ["dL/dTheta", "dL/db2", "dL/dW2", "dL/dHid", "dL/dZ1", "dL/db1", "dL/dW1"]
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "constructor",
           "x.constructor.constructor('alert(1)')()", "__proto__", "np.__proto__", "np.ones((10**9,))",
           "np.eye(10**6)", "window.alert(1)", "document.body",
           "import('data:,1')", "(" * 80 + "x" + ")" * 80, "x" * 600]

READ = """(root) => ({
  scope: JSON.parse(root.dataset.scope),
  prompt: root.querySelector('.ga-prompt').textContent,
  verdict: root.querySelector('[data-verdict]').dataset.verdict,
  live: root.querySelector('[data-verdict]').closest('[aria-live]') !== null,
  message: root.querySelector('[aria-live]').textContent,
  labelled: !!root.querySelector(`label[for="${root.querySelector('input[data-answer]').id}"]`),
})"""

PAGE_SHAPE = """() => ({ elements: document.getElementsByTagName('*').length, scripts: document.scripts.length,
  images: document.images.length, title: document.title,
  verdictChildren: Array.from(document.querySelectorAll('.gradlib-answer [data-verdict]'))
    .map((v) => v.querySelectorAll('*').length) })"""


def answer_models(book_html, page_path: str) -> list[dict]:
    """The embedded state of each answer box of a built page."""
    return widget_models((book_html / page_path).read_text(encoding="utf-8"), ANSWER)


def check(page, root, text: str, how: str = "enter") -> dict:
    """Type ``text``, check it, and return the verdict (which must come within a second)."""
    root.evaluate("(root) => { root.querySelector('[data-verdict]').dataset.verdict = ''; }")
    root.locator("input[data-answer]").fill(text)
    if how == "enter":
        root.locator("input[data-answer]").press("Enter")
    else:
        root.locator("[data-action=check]").click()
    root.locator('[data-verdict]:not([data-verdict=""])').wait_for(timeout=1000)
    return root.evaluate(READ)


@pytest.mark.parametrize("book_page", list(FIRST), ids=lambda p: p.split("/")[1].removesuffix(".html"))
def test_first_box_judges_answers(open_page, book_html, book_page):
    scope, prompt, answers = FIRST[book_page]
    shown = open_page(book_page)
    page = shown.page
    assert len(answer_models(book_html, book_page)) >= 2
    boxes = page.locator(".gradlib-answer")
    assert boxes.count() == len(answer_models(book_html, book_page)), "each box renders exactly once"
    root = boxes.first
    root.scroll_into_view_if_needed()
    view = root.evaluate(READ)
    assert view["scope"] == scope and view["prompt"] == prompt and view["live"] and view["labelled"]
    for k, (text, (verdict, words)) in enumerate(answers.items()):
        got = check(page, root, text, "enter" if k % 2 else "button")
        assert got["verdict"] == verdict, (text, got)
        assert words in got["message"], (text, got["message"])
        sign = {"pass": "✓ Right:", "fail": "✗ Not yet:", "error": "⚠ Cannot check:"}[verdict]
        assert got["message"].startswith(sign), "the verdict is said in words, not by colour alone"
    # the typed answer survives a reload (localStorage)
    root.locator("input[data-answer]").fill("np.outer(r, x) + 0")
    page.reload(wait_until="load")
    page.locator(".gradlib-answer").first.wait_for()
    assert page.locator(".gradlib-answer input[data-answer]").first.input_value() == "np.outer(r, x) + 0"
    second = page.locator(".gradlib-answer input[data-answer]").nth(1)
    assert second.input_value() == "", "each box keeps its own answer"
    assert shown.uncaught == []


def test_keyboard_alone_checks_an_answer(open_page):
    page = open_page("chapters/03_matvec.html").page
    root = page.locator(".gradlib-answer").first
    field = root.locator("input[data-answer]")
    field.focus()
    field.fill("np.outer(r, x)")
    page.keyboard.press("Tab")
    assert root.evaluate("(root) => document.activeElement === root.querySelector('[data-action=check]')")
    page.keyboard.press("Space")
    root.locator('[data-verdict="pass"]').wait_for(timeout=1000)


def test_hostile_input_is_a_clean_error_and_the_page_is_unchanged(open_page):
    shown = open_page("chapters/03_matvec.html")
    page = shown.page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    root = page.locator(".gradlib-answer").first
    before = page.evaluate(PAGE_SHAPE)
    for text in HOSTILE:
        got = check(page, root, text)
        assert got["verdict"] == "error", (text, got)
        assert page.evaluate(PAGE_SHAPE) == before, text
    assert dialogs == [] and shown.console_errors == [] and shown.blocked_requests == []


COLOURS = """(root) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return ['.ga-prompt', '.ga-message', '.ga-word', '.ga-help', '.ga-label', 'input[data-answer]', '[data-action=check]']
    .map((s) => { const el = root.querySelector(s);
                  return [s, rgb(getComputedStyle(el).color).slice(0, 3), background(el)]; });
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_box_reads_at_every_width_and_theme(open_page, screenshot_dir, theme, width):
    page = open_page("chapters/03_matvec.html", theme=theme, width=width).page
    root = page.locator(".gradlib-answer").first
    check(page, root, "np.outer(x, r)")
    root.scroll_into_view_if_needed()
    for selector, text, background in root.evaluate(COLOURS):
        assert contrast(text, background) >= 4.5, (theme, selector, text, background)
    box = root.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, "the box fits the page's width"
    for part in ("input[data-answer]", "[data-action=check]"):
        r = root.locator(part).bounding_box()
        assert r["x"] + r["width"] <= box["x"] + box["width"] + 1, part
    root.screenshot(path=str(screenshot_dir / f"answer-03-{width}-{theme}.png"))


@pytest.mark.parametrize("width", [390, 1280])
def test_capstone_lab_has_a_box_per_line_and_judges_dW2(open_page, book_html, screenshot_dir, width):
    """The lab's seven boxes, in the skeleton's order; the dW2 box passes H^T G_Theta and names the transpose."""
    shown = open_page(CAPSTONE, width=width)
    page = shown.page
    assert sorted(m["question"] for m in answer_models(book_html, CAPSTONE)) == sorted(LAB_LINES)
    boxes = page.locator(".gradlib-answer")
    prompts = boxes.evaluate_all("(roots) => roots.map((root) => root.querySelector('.ga-prompt').textContent)")
    assert [prompt.split(" — type ")[-1] for prompt in prompts] == LAB_LINES, "one box per line, in order, once each"
    root = boxes.nth(LAB_LINES.index("dL/dW2"))
    root.scroll_into_view_if_needed()
    view = root.evaluate(READ)
    assert view["scope"] == {"Hid": [5, 4], "dTheta": [5, 3]}
    assert view["prompt"] == "Hid (5, 4), dTheta (5, 3) — type dL/dW2"
    for text, verdict, words in [
            ("Hid.T @ dTheta", "pass", "your answer equals dL/dW2"),
            ("dTheta.T @ Hid", "fail", "your answer has shape (3, 4) but dL/dW2 is (4, 3): transposed?"),
            ("(dTheta.T @ Hid).T", "pass", "your answer equals dL/dW2")]:
        got = check(page, root, text)
        assert got["verdict"] == verdict and words in got["message"], (text, got)
        assert got["message"].startswith({"pass": "✓ Right:", "fail": "✗ Not yet:"}[verdict]), got["message"]
    check(page, root, "dTheta.T @ Hid")  # the screenshot shows a verdict
    for k in range(boxes.count()):
        box = boxes.nth(k).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"box {k} fits the page's width"
    first, last = boxes.first.bounding_box(), boxes.last.bounding_box()
    span = last["y"] + last["height"] - first["y"]
    page.set_viewport_size({"width": width, "height": int(span) + 200})  # all seven boxes in one view
    boxes.first.evaluate("(root) => root.scrollIntoView({block: 'start'})")  # below the sticky header
    top = boxes.first.bounding_box()["y"] - 10
    page.screenshot(path=str(screenshot_dir / f"answer-09-lab-{width}.png"),
                    clip={"x": 0, "y": top, "width": width, "height": span + 20})
    assert shown.uncaught == []
