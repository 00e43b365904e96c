// The arrays as grids of cells, grouped by role (inputs, upstream, output, gradients). Each cell is a
// button: data-array, data-index, data-value (the value), its colour as custom properties (colours.js).

import { allIndices, get, key } from "./arrays.js";
import { cellStyle } from "./colours.js";
import { element } from "./dom.js";
import { cellText } from "./state.js";

const ROLE_TITLES = { input: "Inputs", upstream: "Upstream gradient", output: "Output", gradient: "Gradients" };
const scaleOf = (values) => values.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
const escape = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

// The board's groups and panels for ctx's arrays; fills `cells` (key -> button).
export function buildBoard(ctx, pending, cells) {
  const { spec } = ctx;
  const board = [];
  const titles = { ...ROLE_TITLES, ...Object.fromEntries(spec.group_titles || []) };
  for (const role of ["input", "upstream", "output", "gradient"]) {
    const members = spec.arrays.filter((a) => a.role === role);
    if (!members.length) continue;
    const group = element("div", { class: "ge-group", "data-role": role });
    group.append(element("div", { class: "ge-group-title" }, spec.rule === "jacobian" && role === "gradient" ? "Jacobian" : titles[role]));
    const panels = element("div", { class: "ge-panels" });
    for (const array of members) panels.append(panel(ctx, array, pending, cells));
    group.append(panels);
    board.push(group);
  }
  return board;
}

function panel(ctx, array, pending, cells) {
  const shape = ctx.arrays[array.name].shape;
  const [rows, cols] = shape.length === 2 ? shape : array.orientation === "column" ? [shape[0], 1] : [1, shape[0]];
  const el = element("div", { class: "ge-array", "data-panel": array.name });
  const name = array.label || array.name;
  const heading = element("div", { class: "ge-array-title" });
  heading.append(element("b", {}, name), " ", element("span", { class: "ge-dims" }, `${array.dims.join("\u00d7")} = `),
    shape.join("\u00d7"), element("span", { class: "ge-step-tag" }));
  const grid = element("div", { class: "ge-grid", role: "group", "aria-label": `${name}: ${array.meaning}, ${rows} by ${cols}` });
  grid.style.gridTemplateColumns = `repeat(${cols}, auto)`;
  grid.dataset.cols = String(cols);
  const indices = allIndices(shape);
  const values = ctx.arrays[array.name];
  const scale = scaleOf(values);
  grid.innerHTML = indices.map((index) => {  // one parse per grid: the fastest way to make many cells
    const v = get(values, index);
    const { text, label } = cellText(ctx.spec, array.name, index, v, pending);
    const waiting = pending.has(array.name) ? ' data-pending="true"' : "";
    return `<button type="button" class="ge-cell" data-array="${array.name}" data-index="${index.join(",")}" tabindex="-1" `
      + `style="${cellStyle(v / scale)}" data-value="${v}"${waiting} aria-label="${escape(label)}"><span class="ge-num">${text}</span></button>`;
  }).join("");
  indices.forEach((index, k) => cells.set(key(array.name, index), grid.children[k]));
  grid.firstChild.tabIndex = 0;
  el.append(heading, grid, element("div", { class: "ge-meaning" }, array.meaning));
  return el;
}

// New numbers (the kernel's, or a step's) into the existing cells.
export function paint(ctx, pending, cells) {
  for (const array of ctx.spec.arrays) {
    const values = ctx.arrays[array.name];
    const scale = scaleOf(values);
    for (const index of allIndices(values.shape)) {
      const cell = cells.get(key(array.name, index));
      const v = get(values, index);
      const { text, label } = cellText(ctx.spec, array.name, index, v, pending);
      cell.style.cssText = cellStyle(v / scale);
      cell.firstChild.textContent = text;
      cell.dataset.value = String(v);
      cell.setAttribute("aria-label", label);
      if (pending.has(array.name)) cell.dataset.pending = "true"; else cell.removeAttribute("data-pending");
    }
  }
}
