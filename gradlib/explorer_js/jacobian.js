// The Jacobian view (chapters 3-7): the Jacobian the rule never builds, read off the gradient's
// pattern. A gradient entry is a vector-Jacobian product, dW[w] = Σ_u r[u] × ∂z[u]/∂W[w], so each
// product of its pattern names a row u (the upstream entry r[u]) and holds the Jacobian entry (the
// other factors). The twin of structure.jacobian.

import { MINUS, allIndices, entryText, flat, fmt, get, key, label, shapeOf, size, unflat } from "./arrays.js";
import { sources } from "./values.js";

// {upstream, wrt, rows, cols, width, entries}: rows are the output's entries, columns wrt's (both
// flattened row by row); entries a Map row*width+col -> {value, products: [[[name, index], ...], ...]}.
// A missing entry is a structural zero.
export function jacobian(spec, shapes, arrays, wrt) {
  const upstream = spec.arrays.find((a) => a.role === "upstream").name;
  const relation = spec.relations.find((r) => r.target === `d${wrt}`);
  const [rows, cols] = [shapeOf(spec, upstream, shapes), shapeOf(spec, wrt, shapes)];
  const width = size(cols);
  const entries = new Map();
  for (const term of relation.terms) {
    const n = term.operands.length;
    for (const w of allIndices(cols)) {
      const pairs = sources(shapes, term, w);
      for (let k = 0; k < pairs.length; k += n) {  // one product per combination of summed letters
        const combo = pairs.slice(k, k + n);
        const u = combo.find(([name]) => name === upstream)[1];
        const factors = combo.filter(([name]) => name !== upstream);
        const at = flat(rows, u) * width + flat(cols, w);
        const entry = entries.get(at) || { value: 0, products: [] };
        entry.value += term.sign * factors.reduce((p, [name, index]) => p * get(arrays[name], index), 1);
        entry.products.push(factors);
        entries.set(at, entry);
      }
    }
  }
  return { upstream, wrt, rows, cols, width, height: size(rows), entries };
}

export const rowName = (spec, jac, row) => entryText(spec.output, unflat(jac.rows, row));
export const colName = (spec, jac, col) => entryText(label(spec, jac.wrt), unflat(jac.cols, col));

// "12 of 36 entries can be nonzero: z[k] depends only on row k of W", and how the matrix is laid out.
export function jacobianSummary(spec, jac) {
  const wrt = jac.wrt;
  const note = Object.fromEntries(spec.jacobian_notes)[wrt];
  const last = (s) => s.map((d) => d - 1);
  const entries = (count) => (count === 1 ? "1 entry" : `${count} entries`);
  const range = (text, shape) => (shape.some((d) => d > 1)
    ? `${entryText(text, shape.map(() => 0))} \u2026 ${entryText(text, last(shape))}` : entryText(text, last(shape)));
  return `\u2202${spec.output}/\u2202${label(spec, wrt)}: ${jac.entries.size} of ${jac.height * jac.width} entries can be nonzero: ${note}. `
    + `Rows: the ${entries(jac.height)} of ${spec.output}${jac.rows.length > 1 ? " flattened row by row" : ""} `
    + `(${range(spec.output, jac.rows)}); columns: the ${entries(jac.width)} of `
    + `${label(spec, wrt)}${jac.cols.length > 1 ? " flattened row by row" : ""} (${range(label(spec, wrt), jac.cols)}). `
    + "Empty cells are structural zeros: that output entry does not depend on that input entry.";
}

// The value of a Jacobian entry as text: its number, or an exact constant ("1") when no factor is involved.
const valueText = (entry) => (entry.products.every((p) => p.length === 0) && Number.isInteger(entry.value)
  ? String(entry.value).replace("-", MINUS) : fmt(entry.value));

// The caption of Jacobian entry (row, col): "∂z[1]/∂W[1,2] = x[2] = 0.81" (the entries its value is,
// then the number); a constant "∂B[1,2]/∂X[1,2] = 1"; a structural zero "∂z[0]/∂W[1,2] = 0: ...".
export function jacobianCaption(spec, jac, row, col) {
  const [z, w] = [rowName(spec, jac, row), colName(spec, jac, col)];
  const entry = jac.entries.get(row * jac.width + col);
  if (!entry) return `\u2202${z}/\u2202${w} = 0: ${z} does not depend on ${w} (a structural zero)`;
  const made = entry.products.filter((p) => p.length)
    .map((p) => p.map(([name, index]) => entryText(label(spec, name), index)).join(" \u00d7 ")).join(" + ");
  return `\u2202${z}/\u2202${w} = ${made ? `${made} = ` : ""}${valueText(entry)}`;
}

// What lights when pointing at Jacobian entry (row, col): the output entry of its row (the row's
// label, z[1]), the input entry of its column (W[1,2] and the column's label) and every entry its value
// is made of (x[2]). Never the upstream r[1]: the Jacobian does not involve it.
export function jacobianEntryLights(jac, row, col) {
  const out = new Set([key("row", [row]), key("col", [col]), key(jac.wrt, unflat(jac.cols, col))]);
  const entry = jac.entries.get(row * jac.width + col);
  for (const product of entry ? entry.products : []) for (const [name, index] of product) out.add(key(name, index));
  return out;
}

// What a gradient entry (or its input entry) lights in the Jacobian view: its column, that column's
// nonzero entries and the upstream entries that weight them (dW[w] = Σ_u r[u] × ∂z[u]/∂W[w]).
export function columnLights(jac, index) {
  const col = flat(jac.cols, index);
  const out = new Set([key("col", [col])]);
  for (let row = 0; row < jac.height; row++) {
    if (!jac.entries.has(row * jac.width + col)) continue;
    out.add(key("jacobian", [row, col]));
    out.add(key(jac.upstream, unflat(jac.rows, row)));
  }
  return out;
}

// ". In the Jacobian: column 6, dW[1,2] = r[0] × ∂z[0]/∂W[1,2] + ...": a gradient entry as the upstream
// row times its Jacobian column.
export function columnNote(spec, jac, index) {
  const col = flat(jac.cols, index);
  const w = entryText(label(spec, jac.wrt), index);
  const terms = [];
  for (let row = 0; row < jac.height; row++) {
    if (!jac.entries.has(row * jac.width + col)) continue;
    const u = unflat(jac.rows, row);
    terms.push(`${entryText(label(spec, jac.upstream), u)} \u00d7 \u2202${entryText(spec.output, u)}/\u2202${w}`);
  }
  const sum = terms.length > 4 ? `${terms.slice(0, 3).join(" + ")} + \u2026 (${terms.length} terms)` : terms.join(" + ");
  return `. In the Jacobian: column ${col}, ${entryText(label(spec, `d${jac.wrt}`), index)} = ${sum}`;
}
