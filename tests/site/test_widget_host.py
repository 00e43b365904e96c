"""The widget host (_assets/widget-host.js) on the built site, in Chromium.

It draws each explorer as soon as the page is parsed: a placeholder about as tall as the explorer
holds its place until then (within PLACEHOLDER_JUMP_PX), and a reader who arrives by keyboard or at
an #anchor finds the explorer live. A probe page built like a widget page checks the host's side of
anywidget's contract (render, get/set/on/off/save_changes, _css once, one model per widget) and its
message for a widget it cannot draw.
"""
from __future__ import annotations

import json
import re

import pytest

from booksite import HOST_SCRIPT, RULE_PAGES, WIDGET_STATE, WIDGET_VIEW, WIDGET_VIEW_SELECTOR, settle

pytestmark = [pytest.mark.book, pytest.mark.browser]

VIEWPORT = {"width": 1280, "height": 800}  # the placeholder, keyboard and anchor tests' window
PLACEHOLDER_JUMP_PX = 200  # most a widget output's height may change when the widget replaces its placeholder


# Each widget output (the element holding a widget view): where it is in the viewport, how tall
# it is, how tall a placeholder in it is (margins included), and how many widgets were drawn in it.
WIDGET_AREAS = """(selector) => [...new Set(Array.from(document.querySelectorAll(selector), (v) => v.parentElement))]
  .map((area) => {
    const probe = document.createElement('div');
    probe.className = 'widget-placeholder';
    area.appendChild(probe);
    const style = getComputedStyle(probe);
    const placeholder = probe.getBoundingClientRect().height
      + parseFloat(style.marginTop) + parseFloat(style.marginBottom);
    probe.remove();
    const subarea = area.querySelector(':scope > .widget-subarea');
    return { top: area.getBoundingClientRect().top, placeholder,
             widget: subarea ? subarea.getBoundingClientRect().height : null,
             waiting: area.querySelectorAll(':scope > .widget-placeholder').length,
             rendered: area.querySelectorAll(':scope > .widget-subarea').length };
  })"""

# Focuses, without scrolling, the last tab stop before the first widget's notebook cell.
FOCUS_BEFORE_WIDGET_CELL = """(selector) => {
  const cell = document.querySelector(selector).parentElement.closest('.cell');
  const stops = Array.from(document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]'))
    .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== 'hidden'  // e.g. a heading's link, shown on hover
      && (cell.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING));
  const before = stops[stops.length - 1];
  before.focus({ preventScroll: true });
  return document.activeElement === before;
}"""


@pytest.mark.parametrize("book_page", RULE_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_placeholder_holds_the_explorers_place(open_page, serious_violations, book_page):
    """Opened at the top (1280x800), with no scroll: every explorer is drawn once, each output's
    placeholder (shown until then) is within PLACEHOLDER_JUMP_PX of the explorer's height, so the
    page does not jump; a placeholder passes axe-core."""
    shown = open_page(book_page, wait=False, **VIEWPORT)
    page = shown.page
    page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=20_000)
    areas = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
    assert areas and page.evaluate("window.scrollY") == 0
    assert [(a["waiting"], a["rendered"]) for a in areas] == [(0, 1)] * len(areas)
    jumps = [round(a["widget"] - a["placeholder"]) for a in areas]
    assert all(abs(jump) <= PLACEHOLDER_JUMP_PX for jump in jumps), (
        f"the page jumps by {jumps} px when the explorer replaces its placeholder")
    page.evaluate("""(selector) => { const box = document.createElement('div');
        box.className = 'widget-placeholder'; box.textContent = 'Explorer loading\u2026';
        const area = document.querySelector(selector).parentElement;
        area.prepend(box);
        area.closest('.cell').dataset.axeProbe = ''; }""", WIDGET_VIEW_SELECTOR)
    # the rest of the page is axe-core's in every visit (test_page_content.py)
    assert serious_violations(page, within="[data-axe-probe]") == [], "axe-core, with a placeholder showing"
    assert shown.console_errors == [] and shown.failed_requests == []


def _section_holding_first_widget(html: str) -> str:
    """The id of the last <section> opened before the page's first widget view."""
    head = html[: html.index(f'type="{WIDGET_VIEW}"')]
    return re.findall(r'<section id="([^"]+)"', head)[-1]


@pytest.mark.parametrize("trigger", ["anchor", "keyboard"])
def test_explorer_is_live_for_a_reader_arriving_by_anchor_or_keyboard(open_page, site_url, book_html, trigger):
    """Opened at the explorer's section (#anchor), the section stays in view and the explorer is
    drawn; from the tab stop before the explorer's cell, Tab reaches the explorer's cells."""
    chapter = RULE_PAGES[0]
    shown = open_page(None, **VIEWPORT)
    page = shown.page
    anchor = _section_holding_first_widget((book_html / chapter).read_text(encoding="utf-8"))
    page.goto(site_url + chapter + (f"#{anchor}" if trigger == "anchor" else ""), wait_until="load")
    page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=20_000)
    areas = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
    assert areas[0]["rendered"] == 1
    if trigger == "anchor":
        settle(shown, explorers=False)
        top = page.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", anchor)
        assert 0 <= top < VIEWPORT["height"] / 2, f"#{anchor} is at {top} px after the explorer was drawn"
    else:
        assert areas[0]["top"] > VIEWPORT["height"], "the explorer is in view at the top: move the test"
        assert page.evaluate(FOCUS_BEFORE_WIDGET_CELL, WIDGET_VIEW_SELECTOR)
        for _ in range(12):  # the cell's own stops first (copy button), then the explorer's controls
            page.keyboard.press("Tab")
            if page.evaluate("!!document.activeElement.closest('.gradlib-explorer')"):
                break
        reached = page.evaluate("!!document.activeElement.closest('.gradlib-explorer')")
        assert reached, "Tab never reached the explorer"
    assert shown.console_errors == []


# --------------------------------------------------------------------------- the widget host itself

# An anywidget for the probe page: a button counting clicks (set + save_changes, and a change
# listener redrawing it), a style from _css, and render's clean-up removing the listener.
PROBE_ESM = """
export default {
  render({ model, el }) {
    const button = document.createElement('button');
    button.className = 'probe-count';
    const draw = () => { button.textContent = `count ${model.get('count')}`; };
    button.addEventListener('click', () => { model.set('count', model.get('count') + 1); model.save_changes(); });
    model.on('change:count', draw);
    draw();
    el.appendChild(button);
    return () => model.off('change:count', draw);
  },
};
"""
PROBE_CSS = ".probe-count { outline: 3px solid rgb(1, 2, 3); }"


def _widget_probe_html() -> str:
    """A page shaped like a built widget page: the widget state of a counter anywidget shown twice
    (two views, one model) and of an IntSlider (not an anywidget), and the widget host's tag as
    _config.yml sets it. The host is fetched from the served site."""
    import anywidget
    import ipywidgets
    import traitlets
    from ipywidgets.embed import embed_data

    class Counter(anywidget.AnyWidget):
        _esm = PROBE_ESM
        _css = PROBE_CSS
        count = traitlets.Int(3).tag(sync=True)

    counter, slider = Counter(), ipywidgets.IntSlider(value=3)
    data = embed_data(views=[counter, counter, slider], drop_defaults=False)  # _esm is a trait's default
    counter.close()
    slider.close()
    views = "".join(f'<div class="output"><script type="{WIDGET_VIEW}">{json.dumps(view)}</script></div>'
                    for view in data["view_specs"])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>widget probe</title>
<link rel="stylesheet" href="../_static/book.css">
<script type="{WIDGET_STATE}">{json.dumps(data["manager_state"])}</script>
<script defer src="../_static/{HOST_SCRIPT}" data-placeholder="waiting" data-placeholder-failed="cannot draw"></script>
</head><body><main>{views}</main></body></html>"""


def test_widget_host_keeps_anywidgets_contract(open_page, site_url):
    """Both views of the counter render from the embedded state, share one model (a click in one
    redraws both through on('change:count')), get its _css once; the IntSlider, which needs the
    widget manager, shows the failure message instead."""
    shown = open_page(None)
    page = shown.page
    url = f"{site_url}chapters/widget-probe.html"  # a page one folder down, like a chapter
    body = _widget_probe_html()
    page.route(url, lambda route: route.fulfill(body=body, content_type="text/html"))
    page.goto(url, wait_until="load")
    buttons = page.locator(".widget-subarea .probe-count")
    page.wait_for_function("document.querySelectorAll('.widget-subarea .probe-count').length === 2"
                           " && !document.querySelector('.widget-placeholder:not(:empty)')"
                           "?.textContent.includes('waiting')",
                           timeout=20_000)
    assert buttons.all_inner_texts() == ["count 3", "count 3"]
    buttons.first.click()
    buttons.first.click()
    assert buttons.all_inner_texts() == ["count 5", "count 5"]
    assert page.evaluate("Array.from(document.querySelectorAll('style'))"
                         ".filter((s) => s.textContent.includes('.probe-count')).length") == 1, "_css not injected once"
    assert buttons.first.evaluate("(b) => getComputedStyle(b).outlineColor") == "rgb(1, 2, 3)"
    placeholders = page.locator(".widget-placeholder")
    assert placeholders.all_inner_texts() == ["cannot draw"], "the IntSlider's output should say it cannot be drawn"
    assert page.locator(".widget-subarea").count() == 2
    assert [e for e in shown.console_errors if "not an anywidget" not in e] == []
    assert len(shown.console_errors) == 1 and shown.failed_requests == []
