// The Jacobian view's table: rows are the output's entries, columns the input's (flattened row by row),
// both labelled; structural zeros are empty cells (data-zero="true"). Up to 16 columns every entry shows
// its value; wider ones get 28 px cells with the value in the caption. The table scrolls inside the
// explorer, its labels kept in view.

import { fmt, key } from "./arrays.js";
import { cellStyle } from "./colours.js";
import { element } from "./dom.js";
import { colName, jacobianSummary, rowName } from "./jacobian.js";

export const COMPACT_ABOVE = 16;  // columns

// The panel of `jac`; fills `cells` ("jacobian|row,col" -> button) and `heads` ("row|r", "col|c" -> th).
export function jacobianPanel(spec, jac, cells, heads) {
  const wrtName = spec.arrays.find((a) => a.name === jac.wrt).label || jac.wrt;
  const group = element("div", { class: "ge-group ge-jacobian", "data-role": "jacobian" });
  group.append(element("div", { class: "ge-group-title" }, `Jacobian \u2202${spec.output}/\u2202${wrtName}`),
    element("p", { class: "ge-jac-summary" }, jacobianSummary(spec, jac)));
  const scale = [...jac.entries.values()].reduce((m, e) => Math.max(m, Math.abs(e.value)), 0) || 1;
  const compact = jac.width > COMPACT_ABOVE;
  let html = `<table class="ge-jac${compact ? " ge-compact" : ""}" aria-label="the Jacobian \u2202${spec.output}/\u2202${wrtName}, `
    + `${jac.height} by ${jac.width}"><thead><tr><th class="ge-corner" scope="col">${spec.output} \\ ${wrtName}</th>`;
  for (let col = 0; col < jac.width; col++) html += `<th scope="col" data-col="${col}"><span>${colName(spec, jac, col)}</span></th>`;
  html += "</tr></thead><tbody>";
  for (let row = 0; row < jac.height; row++) {
    html += `<tr><th scope="row" data-row="${row}">${rowName(spec, jac, row)}</th>`;
    for (let col = 0; col < jac.width; col++) {
      const entry = jac.entries.get(row * jac.width + col);
      const derivative = `\u2202${rowName(spec, jac, row)}/\u2202${colName(spec, jac, col)}`;
      const common = `type="button" class="ge-cell" data-array="jacobian" data-index="${row},${col}" tabindex="-1"`;
      if (!entry) {
        html += `<td><button ${common} data-zero="true" aria-label="${derivative} = 0, a structural zero"></button></td>`;
        continue;
      }
      html += `<td><button ${common} data-value="${entry.value}" aria-label="${derivative} = ${fmt(entry.value)}" `
        + `style="${cellStyle(entry.value / scale)}"><span class="ge-num">${compact ? "" : fmt(entry.value)}</span></button></td>`;
    }
    html += "</tr>";
  }
  const scroller = element("div", { class: "ge-jac-scroll" });
  scroller.innerHTML = `${html}</tbody></table>`;
  for (const cell of scroller.querySelectorAll(".ge-cell")) cells.set(key("jacobian", cell.dataset.index.split(",").map(Number)), cell);
  for (const th of scroller.querySelectorAll("th[data-row]")) heads.set(key("row", [Number(th.dataset.row)]), th);
  for (const th of scroller.querySelectorAll("th[data-col]")) heads.set(key("col", [Number(th.dataset.col)]), th);
  scroller.querySelector(".ge-cell").tabIndex = 0;
  group.append(scroller);
  return group;
}
