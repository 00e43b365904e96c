"""Math a reader can see whole: the measurements the site tests and the printed book share.

A plain module (no pytest), like booksite.py: tests/site/test_math_fits.py measures every page on
screen and in print with :func:`display_math_cuts`, tests/print_book.py the whole book as printed;
:func:`math_layout` measures a page's inline and display math in one go (tests/site/conftest.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: A4 in CSS px (96 per inch), and the printable width with the 15 mm side margins book.css sets.
A4_WIDTH_PX = 210 / 25.4 * 96
PRINT_MARGIN_MM = 15
A4_PRINTABLE_WIDTH_PX = (210 - 2 * PRINT_MARGIN_MM) / 25.4 * 96

# Every display equation (KaTeX's .katex-display: its .katex-html, the drawn formula) and every
# equation number, with each part of it that a reader cannot see. Walking up from the formula, each
# ancestor whose overflow clips (anything but `visible`) either scrolls (overflow auto or scroll, on
# screen only: on paper nothing scrolls) -- then scrolled to both ends it must bring the formula's
# left and right edges into its box -- or it does not, and then the formula must lie inside its
# padding box. Past a clipping box only what that box shows goes on up. At the top the formula must
# lie inside the window's width (the page never scrolls sideways: checked too). Folded solutions
# are unfolded first (the toggle only hides them). Returns the cuts, in CSS px.
DISPLAY_MATH_CUTS = r"""
async (printing) => {
  document.querySelectorAll('.toggle-hidden').forEach((el) => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('details').forEach((el) => { el.open = true; });
  await document.fonts.ready;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const TOLERANCE = 1;
  const label = (el) => {
    const tex = el.closest('.katex-display')?.querySelector('annotation')?.textContent
      || el.closest('.math')?.textContent || el.textContent;
    return tex.replace(/\s+/g, ' ').trim().slice(0, 70);
  };
  const extentOf = (part) => {
    const range = document.createRange();
    range.selectNodeContents(part);
    const r = range.getBoundingClientRect();
    return { left: r.left, right: r.right, width: r.width };
  };
  const padding = (el) => {
    const r = el.getBoundingClientRect();
    const left = r.left + el.clientLeft;
    return { left, right: left + el.clientWidth };
  };
  const parts = [
    ...Array.from(document.querySelectorAll('.katex-display .katex-html'), (el) => ({ el, kind: 'formula' })),
    ...Array.from(document.querySelectorAll('div.math .eqno'), (el) => ({ el, kind: 'number' })),
  ].filter(({ el }) => el.getClientRects().length > 0);
  const cuts = [];
  for (const { el, kind } of parts) {
    let extent = extentOf(el);  // where the part can appear (inner scroll boxes moved to either end)
    if (extent.width === 0) continue;
    const where = [];
    for (let box = kind === 'formula' ? el : el.parentElement; box && box !== document.documentElement;
         box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const area = padding(box);
      const scrolls = !printing && ['auto', 'scroll'].includes(style.overflowX);
      let { left, right } = extent;
      if (scrolls) {  // scrolled to its start and to its end, how far the part moves
        const kept = box.scrollLeft, now = extentOf(el);
        box.scrollLeft = -1e7;
        left += extentOf(el).left - now.left;
        box.scrollLeft = 1e7;
        right += extentOf(el).right - now.right;
        box.scrollLeft = kept;
      }
      const cutLeft = area.left - left, cutRight = right - area.right;
      if (cutLeft > TOLERANCE || cutRight > TOLERANCE) {
        where.push(`${box.tagName.toLowerCase()}.${[...box.classList].join('.')} (overflow ${style.overflowX}`
          + `${scrolls ? ', scrolled to both ends' : ''}) cuts ${Math.max(0, Math.round(cutLeft))} px left,`
          + ` ${Math.max(0, Math.round(cutRight))} px right`);
      }
      left = Math.max(left, area.left);
      right = Math.min(right, area.right);
      extent = { left, right, width: right - left };
      if (extent.width <= 0) break;
    }
    const page = document.documentElement.clientWidth;
    if (extent.width > 0 && (extent.left < -TOLERANCE || extent.right > page + TOLERANCE)) {
      where.push(`the window (${page} px) cuts ${Math.max(0, Math.round(-extent.left))} px left, `
        + `${Math.max(0, Math.round(extent.right - page))} px right`);
    }
    if (where.length) cuts.push({ kind, tex: label(el), where });
  }
  const root = document.documentElement;
  return {
    parts: parts.length,
    formulas: parts.filter((p) => p.kind === 'formula').length,
    sideways: Math.max(root.scrollWidth, document.body.scrollWidth) - root.clientWidth,
    cuts,
  };
}
"""


def display_math_cuts(page: Page, *, printing: bool = False) -> dict:
    """Run :data:`DISPLAY_MATH_CUTS` on ``page`` as it is laid out now (print media: ``printing``)."""
    return page.evaluate(DISPLAY_MATH_CUTS, printing)


# Every text that starts with punctuation right after an inline formula, and whether it starts a
# new line: its first character lies below the formula's last line box.
PUNCTUATION_AFTER_MATH = r"""
async () => {
  await document.fonts.ready;
  const out = [];
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!/^[,.;:)]/.test(node.textContent)) continue;
    const before = node.previousSibling;
    if (!before || before.nodeType !== 1 || !before.matches('.math') || before.closest('.katex-display')) continue;
    const lines = before.getClientRects();
    if (!lines.length) continue;
    const range = document.createRange();
    range.setStart(node, 0); range.setEnd(node, 1);
    const mark = range.getBoundingClientRect();
    const last = lines[lines.length - 1];
    out.push({ text: (before.textContent.slice(-20) + node.textContent.slice(0, 20)).replace(/\s+/g, ' '),
               broken: mark.top >= last.bottom - 2 });
  }
  return out;
}
"""


def math_layout(page: Page) -> dict:
    """``{"punctuation": PUNCTUATION_AFTER_MATH, "cuts": display_math_cuts}`` of ``page`` on screen, in
    that order (the cuts unfold the solutions: the punctuation is measured as the page was)."""
    return {"punctuation": page.evaluate(PUNCTUATION_AFTER_MATH), "cuts": display_math_cuts(page)}
