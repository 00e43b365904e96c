// Predict mode's marks: a picked cell, and after Reveal each verdict, has its own ring, a badge beside
// the number (explorer.css) and words in its aria-label, explained in the legend: never colour alone.

import { element } from "./dom.js";

export const VERDICTS = {
  guess: "picked", hit: "right: a dependency you picked", miss: "missed: a dependency you did not pick",
  extra: "extra: you picked it, but it is not a dependency",
};
const SEPARATOR = " \u2014 ";

// The legend of explore mode and the one of predict mode (each key drawn with the cell's own style).
export function legends() {
  const legend = element("p", { class: "ge-legend" });
  legend.innerHTML = '<span class="ge-key ge-key-selected">0.00</span> the entry you point at '
    + '<span class="ge-key ge-key-lit">0.00</span> the entries it is computed from, or feeds '
    + '<span class="ge-scale" aria-hidden="true"></span> colour: blue below 0, white (dark grey on a dark page) at 0, '
    + "red above. Indices count from 0, as in code (the math counts from 1).";
  const predict = element("p", { class: "ge-predict-legend" });
  predict.innerHTML = "Predict first: the dashed cell is the question. Pick the entries you expect it to be linked to, "
    + 'then Reveal. <span class="ge-key ge-key-guess">0.00</span> picked '
    + '<span class="ge-key ge-key-hit">0.00</span> right '
    + '<span class="ge-key ge-key-miss">0.00</span> missed (a dependency you did not pick) '
    + '<span class="ge-key ge-key-extra">0.00</span> extra (picked, not a dependency).';
  return { legend, predict };
}

const baseLabel = (cell) => cell.getAttribute("aria-label").split(SEPARATOR)[0];

// Draw `marks` (key -> guess / hit / miss / extra) over the cells, undoing `previous`.
export function applyMarks(cells, marks, previous) {
  for (const [k] of previous) {
    const cell = cells.get(k);
    if (!cell || marks.get(k) === previous.get(k)) continue;
    cell.removeAttribute("data-guess");
    cell.removeAttribute("data-verdict");
    cell.removeAttribute("aria-pressed");
    cell.setAttribute("aria-label", baseLabel(cell));
  }
  for (const [k, mark] of marks) {
    const cell = cells.get(k);
    if (!cell || previous.get(k) === mark) continue;
    if (mark === "guess") {
      cell.dataset.guess = "true";
      cell.setAttribute("aria-pressed", "true");
    } else {
      cell.removeAttribute("data-guess");
      cell.dataset.verdict = mark;
      if (mark === "miss") cell.removeAttribute("aria-pressed");
    }
    cell.setAttribute("aria-label", `${baseLabel(cell)}${SEPARATOR}${VERDICTS[mark]}`);
  }
}
