// The view of gradlib.explorer.Explorer (an anywidget): a rule's arrays as grids of cells.
//
// Everything comes from the rule's spec (gradlib/structure/, sent as the `specs` trait): the
// dependency patterns ("il,jl->ij") give both the lit cells and the values, so the view keeps
// working on a static page with no kernel. When a kernel answers, the numbers it computed with
// gradlib (the `computed` trait) are shown instead; the two agree (tests/lib/test_explorer.py).
// No imports, no network: the book must work offline.

const MINUS = "\u2212";

// --- arrays: {shape, data} with data a flat row-major Float64Array ------------------------------

export function allIndices(shape) {
  let out = [[]];
  for (const size of shape) {
    const next = [];
    for (const prefix of out) for (let i = 0; i < size; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}

function flat(shape, index) {
  let k = 0;
  for (let a = 0; a < shape.length; a++) k = k * shape[a] + index[a];
  return k;
}

const get = (array, index) => array.data[flat(array.shape, index)];
const zeros = (shape) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });
const key = (name, index) => `${name}|${index.join(",")}`;
const parseKey = (k) => { const [name, idx] = k.split("|"); return [name, idx.split(",").map(Number)]; };

export function arrayOf(spec, name) { return spec.arrays.find((a) => a.name === name); }
export function shapeOf(spec, name, shapes) { return arrayOf(spec, name).dims.map((d) => shapes[d]); }
const label = (spec, name) => arrayOf(spec, name).label || name;
const entryText = (text, index) => `${text}[${index.join(",")}]`;

// Every way to bind a term's letters for target entry `entry`: {letter: index}, the output letters
// fixed by the entry, the summed ones running over their dims (term.output and term.summed come from
// structure.Term, the one split of a term's letters). `operandIndex` is operand k's entry in a binding.
function bindings(shapes, term, entry) {
  const fixed = {};
  [...term.output].forEach((c, k) => { fixed[c] = entry[k]; });
  const summed = [...term.summed];
  return allIndices(summed.map((c) => shapes[term.letters[c]])).map((combo) => {
    const at = { ...fixed };
    summed.forEach((c, k) => { at[c] = combo[k]; });
    return at;
  });
}
const operandIndex = (term, k, at) => [...term.inputs[k]].map((c) => at[c]);

// --- which entries an entry is computed from -----------------------------------------------------

// The (operand, index) pairs that `entry` of the relation's target reads through `term`.
export function sources(shapes, term, entry) {
  if (term.constant_if_one && shapes[term.letters[term.constant_if_one]] === 1) return [];
  return bindings(shapes, term, entry).flatMap((at) => term.operands.map((name, k) => [name, operandIndex(term, k, at)]));
}

// The lights at `shapes`: {from(k), feeds(k)}, Sets of keys ("dW|1,2"). `from` is what an entry is
// computed from (read off its terms); `feeds` the entries that read it, found by scanning every
// computed entry once, when first needed (a shape change then costs nothing until an input is pointed at).
export function dependencies(spec, shapes) {
  const operands = new Set(spec.relations.flatMap((r) => r.terms.flatMap((t) => t.operands)));
  let feeding = null;
  const from = (k) => {
    const [name, index] = parseKey(k);
    const out = new Set();
    for (const relation of spec.relations) {
      if (relation.target !== name) continue;
      for (const term of relation.terms) for (const [n, i] of sources(shapes, term, index)) out.add(key(n, i));
    }
    return out;
  };
  const feeds = (k) => {
    if (!operands.has(parseKey(k)[0])) return new Set();
    if (feeding === null) {
      feeding = new Map();
      for (const relation of spec.relations) {
        for (const entry of allIndices(shapeOf(spec, relation.target, shapes))) {
          const target = key(relation.target, entry);
          for (const source of from(target)) {
            if (!feeding.has(source)) feeding.set(source, new Set());
            feeding.get(source).add(target);
          }
        }
      }
    }
    return feeding.get(k) || new Set();
  };
  return { from, feeds, all: (k) => new Set([...from(k), ...feeds(k)]) };
}

// {array name: [index, ...]} lit when pointing at array[index] (the twin of structure.lights).
export function lights(spec, shapes, array, index) {
  const out = {};
  for (const k of dependencies(spec, shapes).all(key(array, index))) {
    const [name, idx] = parseKey(k);
    (out[name] = out[name] || []).push(idx);
  }
  return out;
}

// --- values ---------------------------------------------------------------------------------------

function einsum(term, operands, shapes, shape) {
  const out = zeros(shape);
  for (const entry of allIndices(shape)) {
    let sum = 0;
    for (const at of bindings(shapes, term, entry)) {
      sum += operands.reduce((prod, op, k) => prod * get(op, operandIndex(term, k, at)), 1);
    }
    out.data[flat(shape, entry)] = sum;
  }
  return out;
}

function softmax(v) {
  const max = Math.max(...v.data);
  const e = v.data.map((t) => Math.exp(t - max));
  const total = e.reduce((a, b) => a + b, 0);
  return { shape: v.shape, data: e.map((t) => t / total) };
}

function softmaxRows(v) {  // a softmax per row of an (n, c) matrix
  const [n, c] = v.shape;
  const out = zeros(v.shape);
  for (let i = 0; i < n; i++) {
    const row = softmax({ shape: [c], data: v.data.slice(i * c, (i + 1) * c) });
    out.data.set(row.data, i * c);
  }
  return out;
}

function jacobianOf(f, entry) {  // (m, n) from a function of (i, j) of the square case
  const n = f.shape[0];
  const out = zeros([n, n]);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.data[i * n + j] = entry(f.data[i], f.data[j], i === j);
  return out;
}

// fn name -> value of a term (the same list as structure.FUNCTIONS).
const FUNCTIONS = {
  product: einsum,
  softmax: (term, [v]) => softmax(v),
  tanh: (term, [v]) => ({ shape: v.shape, data: v.data.map(Math.tanh) }),
  relu: (term, [v]) => ({ shape: v.shape, data: v.data.map((t) => Math.max(t, 0)) }),
  relu_mask: (term, [g, a]) => ({ shape: g.shape, data: g.data.map((t, k) => (a.data[k] > 0 ? t : 0)) }),
  softmax_rows: (term, [v]) => softmaxRows(v),
  jacobian_linear: (term, [A]) => ({ shape: A.shape, data: Float64Array.from(A.data) }),
  jacobian_tanh: (term, [f]) => jacobianOf(f, (fi, fj, same) => (same ? 1 - fi * fi : 0)),
  jacobian_softmax: (term, [f]) => jacobianOf(f, (fi, fj, same) => (same ? fi : 0) - fi * fj),
};

// The given arrays (inputs and upstream) at `shapes`, from `values` (each at its largest shape).
export function givenArrays(spec, shapes, values, params) {
  const out = {};
  for (const array of spec.arrays) {
    if (array.role !== "input" && array.role !== "upstream") continue;
    const shape = shapeOf(spec, array.name, shapes);
    const result = zeros(shape);
    for (const index of allIndices(shape)) {
      let v;
      if (array.onehot && shape.length === 2) v = index[1] === index[0] % shape[1] ? 1 : 0;  // row i: class i mod C
      else if (array.onehot) v = index[0] === params[array.onehot] ? 1 : 0;
      else v = index.reduce((row, i) => row[i], values[array.name]);
      result.data[flat(shape, index)] = v;
    }
    out[array.name] = result;
  }
  return out;
}

// Every array computed from the spec alone (the twin of structure.evaluate).
export function evaluate(spec, shapes, given) {
  const arrays = { ...given };
  for (const relation of spec.relations) {
    const shape = shapeOf(spec, relation.target, shapes);
    const total = zeros(shape);
    for (const term of relation.terms) {
      const value = FUNCTIONS[term.fn](term, term.operands.map((o) => arrays[o]), shapes, shape);
      const divide = term.mean_over ? shapes[term.letters[term.mean_over]] : 1;  // the 1/N of a mean
      value.data.forEach((v, k) => { total.data[k] += (term.sign * v) / divide; });
    }
    arrays[relation.target] = total;
  }
  return arrays;
}

// --- the Jacobian view ------------------------------------------------------------------------------

// The Jacobian of spec.output w.r.t. input `wrt`, flattened row-major (rows: output entries, columns:
// wrt's entries), read off the gradient's pattern, a vector-Jacobian product: dW[w] = Σ_u r[u] ×
// ∂z[u]/∂W[w]. The twin of structure.jacobian. Returns {upstream, rows, cols, entries}, entries a Map
// row*width+col -> {value, factors: [[name, index], ...]}; a missing entry is a structural zero.
export function jacobian(spec, shapes, arrays, wrt) {
  const upstream = spec.arrays.find((a) => a.role === "upstream").name;
  const relation = spec.relations.find((r) => r.target === `d${wrt}`);
  const [rows, cols] = [shapeOf(spec, upstream, shapes), shapeOf(spec, wrt, shapes)];
  const width = cols.reduce((a, b) => a * b, 1);
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
        const entry = entries.get(at) || { value: 0, factors: [] };
        entry.value += term.sign * factors.reduce((p, [name, index]) => p * get(arrays[name], index), 1);
        entry.factors.push(...factors);
        entries.set(at, entry);
      }
    }
  }
  return { upstream, rows, cols, entries };
}

// "12 of 36 entries can be nonzero: z[k] depends only on row k of W", and how the matrix is laid out.
export function jacobianSummary(spec, jac, wrt) {
  const [m, n] = [jac.rows, jac.cols].map((s) => s.reduce((a, b) => a * b, 1));
  const note = Object.fromEntries(spec.jacobian_notes)[wrt];
  const last = (s) => s.map((d) => d - 1);
  const entries = (count) => (count === 1 ? "1 entry" : `${count} entries`);
  const range = (text, shape) => (shape.some((d) => d > 1)
    ? `${entryText(text, shape.map(() => 0))} \u2026 ${entryText(text, last(shape))}` : entryText(text, last(shape)));
  return `\u2202${spec.output}/\u2202${label(spec, wrt)}: ${jac.entries.size} of ${m * n} entries can be nonzero: ${note}. `
    + `Rows: the ${entries(m)} of ${spec.output}${jac.rows.length > 1 ? " flattened row by row" : ""} `
    + `(${range(spec.output, jac.rows)}); columns: the ${entries(n)} of `
    + `${label(spec, wrt)}${jac.cols.length > 1 ? " flattened row by row" : ""} (${range(label(spec, wrt), jac.cols)}). Empty cells are structural zeros.`;
}

// The caption of Jacobian entry (row, col): "∂z[1]/∂W[1,2] = x[2] = 0.39".
export function jacobianCaption(spec, jac, wrt, row, col) {
  const [outIndex, inIndex] = [unflat(jac.rows, row), unflat(jac.cols, col)];
  const [z, w] = [entryText(spec.output, outIndex), entryText(label(spec, wrt), inIndex)];
  const entry = jac.entries.get(row * jac.cols.reduce((a, b) => a * b, 1) + col);
  if (!entry) return `\u2202${z}/\u2202${w} = 0: ${z} does not depend on ${w} (a structural zero)`;
  const factors = entry.factors.map(([name, index]) => entryText(label(spec, name), index)).join(" \u00d7 ");
  return `\u2202${z}/\u2202${w} = ${factors ? `${factors} = ` : ""}${fmt(entry.value)}`;
}

function unflat(shape, k) {
  const index = [];
  for (let a = shape.length - 1; a >= 0; a--) { index.unshift(k % shape[a]); k = Math.floor(k / shape[a]); }
  return index;
}

// --- captions ---------------------------------------------------------------------------------------

export function fmt(v) {
  const text = (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
  return text.replace("-", MINUS);
}
const factor = (v) => (fmt(v).startsWith(MINUS) ? `(${fmt(v)})` : fmt(v));

// The same term with the numbers filled in, and a remark where one helps.
function termNumbers(spec, shapes, term, entry, arrays) {
  if (term.mean_over) {
    const { text, note } = termNumbers(spec, shapes, { ...term, mean_over: "" }, entry, arrays);
    return { text: text && `${text.includes(" ") ? `(${text})` : text} / ${shapes[term.letters[term.mean_over]]}`, note };
  }
  const ops = term.operands.map((o) => arrays[o]);
  if (term.fn === "product") {
    const parts = bindings(shapes, term, entry).map((at) => ops.map((op, k) => factor(get(op, operandIndex(term, k, at)))).join(" \u00d7 "));
    return { text: parts.join(" + ") };
  }
  if (term.fn === "softmax") {
    const text = fmt(softmax(ops[0]).data[entry[0]]);
    const note = shapes[term.letters[term.constant_if_one]] === 1
      ? `with one class, softmax(${label(spec, term.operands[0])}) is always 1 and depends on nothing` : "";
    return { text, note };
  }
  if (term.fn === "tanh") return { text: `tanh(${fmt(get(ops[0], entry))})` };
  if (term.fn === "relu") return { text: `max(0, ${fmt(get(ops[0], entry))})` };
  if (term.fn === "relu_mask") {
    const on = get(ops[1], entry) > 0;
    const a = entryText(label(spec, term.operands[1]), entry);
    return { text: `${factor(get(ops[0], entry))} \u00d7 ${on ? 1 : 0}`, note: on ? "" : `${a} \u2264 0: the unit is off and passes nothing back` };
  }
  if (term.fn === "softmax_rows") {
    const c = shapes[term.letters[term.constant_if_one]];
    const note = c === 1 ? `with one class, softmax(${label(spec, term.operands[0])}[${entry[0]},:]) is always 1 and depends on nothing` : "";
    return { text: fmt(softmaxRows(ops[0]).data[flat(ops[0].shape, entry)]), note };
  }
  const [i, j] = entry;
  if (term.fn === "jacobian_linear") return { text: fmt(get(ops[0], entry)) };
  const f = ops[0];
  if (term.fn === "jacobian_tanh") {
    if (i === j) return { text: `1 ${MINUS} ${factor(f.data[i])}\u00b2` };
    const [fName, xName] = [label(spec, term.operands[0]), label(spec, term.operands[1])];
    return { text: "", note: `${fName}[${i}] = tanh(${xName}[${i}]) does not depend on ${xName}[${j}]` };
  }
  return { text: i === j ? `${fmt(f.data[i])} \u00d7 (1 ${MINUS} ${fmt(f.data[i])})` : `${MINUS}${fmt(f.data[i])} \u00d7 ${fmt(f.data[j])}` };
}

// The index formula of `entry`: structure.formulas' text (sent with the spec) with the indices filled in.
export function formulaOf(spec, relation, entry) {
  const text = entry.length === 2 && entry[0] === entry[1] ? relation.formula_diagonal : relation.formula;
  return text.replace(/\{(\d+)\}/g, (_, k) => entry[Number(k)]);
}

function computedCaption(spec, shapes, relation, entry, arrays) {
  const notes = [];
  const numbers = relation.terms.map((term, n) => {
    const { text, note } = termNumbers(spec, shapes, term, entry, arrays);
    if (note) notes.push(note);
    if (!text) return "";
    if (n === 0) return term.sign > 0 ? text : `${MINUS}${text}`;
    return `${term.sign > 0 ? "+" : MINUS} ${text}`;
  }).filter(Boolean).join(" ");
  const value = fmt(get(arrays[relation.target], entry));
  let caption = formulaOf(spec, relation, entry);
  if (numbers && numbers !== value) caption += ` = ${numbers}`;
  if (!caption.endsWith(`= ${value}`) && !caption.endsWith("= 0")) caption += ` = ${value}`;
  return caption + notes.map((n) => ` (${n})`).join("");
}

function listEntries(spec, keys) {
  const byArray = new Map();
  for (const k of keys) {
    const [name, index] = parseKey(k);
    if (!byArray.has(name)) byArray.set(name, []);
    byArray.get(name).push(index);
  }
  return [...byArray].map(([name, indices]) => (indices.length <= 6
    ? indices.map((i) => entryText(label(spec, name), i)).join(", ")
    : `${indices.length} entries of ${label(spec, name)}`)).join("; ");
}

export function caption(spec, shapes, arrays, deps, array, index) {
  const relation = spec.relations.find((r) => r.target === array);
  const fed = [...deps.feeds(key(array, index))];
  if (relation) {
    const text = computedCaption(spec, shapes, relation, index, arrays);
    return fed.length ? `${text}; it feeds ${listEntries(spec, fed)}` : text;
  }
  const head = `${entryText(label(spec, array), index)} = ${fmt(get(arrays[array], index))}`;
  if (fed.length) return `${head} feeds ${listEntries(spec, fed)}`;
  return `${head} feeds no entry of the gradients: none of them reads ${label(spec, array)}`;
}

// --- predict mode's score -------------------------------------------------------------------------

const COUNT = ["no", "one", "two", "three", "four", "five", "six"];
const some = (list, name) => (list.length > 4 ? `${list.slice(0, 3).map(name).join(", ")} and ${list.length - 3} more`
  : list.map(name).join(", "));

// "5 of 6, one extra: dW[1,2] does not depend on x[0]"; `found` holds the keys of each verdict,
// `name(k)` the text of an entry.
export function scoreLine(spec, question, found, name) {
  const [array] = parseKey(question);
  const computed = spec.relations.some((r) => r.target === array);
  const feeds = spec.relations.some((r) => r.terms.some((t) => t.operands.includes(array)));
  const verb = array === "jacobian" || (computed && feeds) ? "is not linked to" : computed ? "does not depend on" : "does not feed";
  const parts = [`${found.hit.length} of ${found.hit.length + found.miss.length}`];
  if (found.miss.length) parts.push(`${COUNT[found.miss.length] || found.miss.length} missed: ${some(found.miss, name)}`);
  if (found.extra.length) {
    parts.push(`${COUNT[found.extra.length] || found.extra.length} extra: ${name(question)} ${verb} ${some(found.extra, name)}`);
  }
  if (!found.miss.length && !found.extra.length) parts.push("all right");
  return parts.join(", ");
}

// --- colours ----------------------------------------------------------------------------------------

// A diverging map centred at 0 (ColorBrewer RdBu): blue below 0, white at 0, red above.
const NEGATIVE = ["#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"];
const POSITIVE = ["#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];
const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

export function colour(t) {  // t in [-1, 1]
  const stops = t < 0 ? NEGATIVE : POSITIVE;
  const x = Math.min(Math.abs(t), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(x), stops.length - 2);
  const [a, b] = [rgb(stops[k]), rgb(stops[k + 1])];
  return a.map((v, c) => Math.round(v + (b[c] - v) * (x - k)));
}

function luminance([r, g, b]) {
  const lin = (v) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

// Black or white, whichever contrasts more (always at least 4.58:1, above WCAG AA's 4.5).
export function textColour(background) {
  const L = luminance(background);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? "#000000" : "#ffffff";
}

// --- the view ---------------------------------------------------------------------------------------

const ROLE_TITLES = { input: "Inputs", upstream: "Upstream gradient", output: "Output", gradient: "Gradients" };
let counter = 0;

function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text) el.textContent = text;
  return el;
}

const sameDict = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b || {});

function render({ model, el }) {
  const id = `gradlib-explorer-${++counter}-${Math.random().toString(36).slice(2, 7)}`;
  const specs = model.get("specs");
  const state = {
    variant: model.get("variant"), shapes: { ...model.get("shapes") }, params: { ...model.get("params") },
    pinned: null, selected: null, step: 0,
    view: "normal", wrt: "", mode: "explore", question: null, guesses: new Set(), revealed: false,
  };
  let spec, deps, arrays, cells, source;
  let jac = null;  // the Jacobian shown (the Jacobian view), else null
  let heads = new Map();  // the Jacobian's row and column labels, by key ("row|3", "col|7")
  const root = element("div", { class: "gradlib-explorer", "data-rule": model.get("rule") });
  const head = element("div", { class: "ge-head" });
  const controls = element("div", { class: "ge-controls" });
  const board = element("div", { class: "ge-board" });
  const stepper = element("div", { class: "ge-steps" });  // chained specs (chapter 8): walk the pass
  const modes = element("div", { class: "ge-modes" });  // view (gradients / Jacobian) and mode (explore / predict)
  const captionEl = element("p", { class: "ge-caption", "aria-live": "polite" });
  const score = element("p", { class: "ge-score", "aria-live": "polite" });
  const status = element("p", { class: "ge-status" });
  const legend = element("p", { class: "ge-legend" });
  legend.innerHTML = '<span class="ge-key ge-key-selected">0.00</span> the entry you point at '
    + '<span class="ge-key ge-key-lit">0.00</span> the entries it is computed from, or feeds '
    + '<span class="ge-scale" aria-hidden="true"></span> colour: blue below 0, white at 0, red above. '
    + 'Indices count from 0, as in code (the math counts from 1).';
  const predictLegend = element("p", { class: "ge-predict-legend" });
  predictLegend.innerHTML = 'Predict first: pick the entries you expect to light up, then reveal. Marks: '
    + '<span class="ge-key-mark" style="background:#000">?</span> picked '
    + '<span class="ge-key-mark" style="background:#1b5e20">\u2713</span> right '
    + '<span class="ge-key-mark" style="background:#0d47a1">+</span> missed (a dependency you did not pick) '
    + '<span class="ge-key-mark" style="background:#b71c1c">\u2717</span> extra (picked, not a dependency).';
  root.append(head, controls, modes, stepper, board, captionEl, score, status, legend, predictLegend);
  el.replaceChildren(root);

  const clampParams = () => {
    for (const p of spec.params) state.params[p.name] = Math.min(state.params[p.name] ?? p.default, state.shapes[p.below] - 1);
  };

  function buildControls() {
    spec = specs.find((s) => s.variant === state.variant) || specs[0];
    root.dataset.variant = spec.variant;
    head.replaceChildren(element("span", { class: "ge-title" }, spec.title));
    controls.replaceChildren();
    if (specs.length > 1) {
      const wrap = element("div", { class: "ge-control" });
      const select = element("select", { id: `${id}-variant`, "data-param": "variant" });
      for (const s of specs) {
        const option = element("option", { value: s.variant }, s.title);
        if (s.variant === spec.variant) option.selected = true;
        select.append(option);
      }
      select.addEventListener("change", () => {
        state.variant = select.value;
        model.set("variant", state.variant);
        model.save_changes();
        buildControls();
        buildModes();
        rebuild();
      });
      wrap.append(element("label", { for: select.id }, "map "), select);
      controls.append(wrap);
    }
    const sliders = [
      ...spec.dims.map((d) => ({ name: d.name, min: d.low, max: d.high, meaning: d.meaning, attr: "data-dim" })),
      ...spec.params.map((p) => ({ name: p.name, min: 0, max: state.shapes[p.below] - 1, meaning: p.meaning, attr: "data-param", below: p.below })),
    ];
    for (const s of sliders) {
      const wrap = element("div", { class: "ge-control" });
      const input = element("input", { type: "range", id: `${id}-${s.name}`, min: s.min, max: s.max, step: 1, [s.attr]: s.name });
      const value = s.attr === "data-dim" ? state.shapes[s.name] : state.params[s.name];
      input.value = value;
      const text = element("label", { for: input.id });
      const number = element("span", { class: "ge-number" }, String(value));
      text.append(element("span", { class: "ge-dim" }, s.name), " = ", number, element("span", { class: "ge-meaning" }, ` (${s.meaning})`));
      input.addEventListener("input", () => {
        const v = Number(input.value);
        if (s.attr === "data-dim") state.shapes[s.name] = v; else state.params[s.name] = v;
        number.textContent = String(v);
        clampParams();
        syncSliders();
        rebuild();
        model.set("shapes", { ...state.shapes });
        model.set("params", { ...state.params });
        model.save_changes();
      });
      wrap.append(text, input);
      controls.append(wrap);
    }
  }

  function buildModes() {
    modes.replaceChildren();
    const toggle = (attr, value, text, pressed, onClick) => {
      const button = element("button", { type: "button", class: "ge-toggle", [attr]: value, "aria-pressed": String(pressed) }, text);
      button.addEventListener("click", onClick);
      return button;
    };
    if (spec.output) {
      const inputs = spec.jacobian_notes.map(([name]) => name);  // at first, the input of the selected gradient
      if (!inputs.includes(state.wrt)) state.wrt = inputs.find((n) => `d${n}` === spec.select.array) || inputs[0];
      const group = element("div", { class: "ge-toggles", role: "group", "aria-label": "view" });
      const wrt = element("select", { "data-control": "wrt", "aria-label": "the Jacobian with respect to" });
      for (const name of inputs) {
        const option = element("option", { value: name }, `\u2202${spec.output}/\u2202${label(spec, name)}`);
        option.selected = name === state.wrt;
        wrt.append(option);
      }
      wrt.addEventListener("change", () => { state.wrt = wrt.value; setView("jacobian"); });
      group.append(element("span", { class: "ge-toggles-title" }, "view "),
        toggle("data-view", "normal", "gradients", state.view === "normal", () => setView("normal")),
        toggle("data-view", "jacobian", "Jacobian", state.view === "jacobian", () => setView("jacobian")), wrt);
      modes.append(group);
    }
    const group = element("div", { class: "ge-toggles", role: "group", "aria-label": "mode" });
    const reveal = toggle("data-action", "reveal", "reveal the answer", false, revealAnswer);
    reveal.removeAttribute("aria-pressed");
    reveal.hidden = state.mode !== "predict";
    group.append(element("span", { class: "ge-toggles-title" }, "mode "),
      toggle("data-mode", "explore", "explore", state.mode === "explore", () => setMode("explore")),
      toggle("data-mode", "predict", "predict first", state.mode === "predict", () => setMode("predict")), reveal);
    modes.append(group);
    root.dataset.view = state.view;
    root.dataset.mode = state.mode;
    predictLegend.hidden = state.mode !== "predict";
  }

  function setView(view) {
    state.view = spec.output ? view : "normal";
    buildModes();
    build();
    restore();
  }

  function setMode(mode) {
    state.mode = mode;
    buildModes();
    clearGuesses();
    restore();
  }

  function buildStepper() {
    stepper.replaceChildren();
    stepper.hidden = !spec.steps.length;
    if (!spec.steps.length) return;
    const prev = element("button", { type: "button", "data-step": "prev", class: "ge-step-button" }, "\u2190 previous step");
    const next = element("button", { type: "button", "data-step": "next", class: "ge-step-button" }, "next step \u2192");
    const text = element("p", { class: "ge-step", "aria-live": "polite" });
    prev.addEventListener("click", () => goToStep(state.step - 1));
    next.addEventListener("click", () => goToStep(state.step + 1));
    stepper.append(prev, next, text);
  }

  function markStep() {  // the panels the current step reads and writes, and its description
    if (!spec.steps.length) return;
    const step = spec.steps[state.step];
    const names = (list) => list.map((n) => label(spec, n)).join(", ");
    stepper.querySelector(".ge-step").textContent = `Step ${state.step + 1} of ${spec.steps.length}: ${step.title} `
      + `\u2014 ${step.rule}. Reads ${names(step.reads)}; writes ${names(step.writes)}. In gradlib.mlp: ${step.code}`;
    stepper.querySelector('[data-step="prev"]').disabled = state.step === 0;
    stepper.querySelector('[data-step="next"]').disabled = state.step === spec.steps.length - 1;
    stepper.dataset.current = String(state.step);
    for (const panel of board.querySelectorAll(".ge-array")) {
      const role = step.writes.includes(panel.dataset.panel) ? "writes" : step.reads.includes(panel.dataset.panel) ? "reads" : "";
      if (role) panel.dataset.stepRole = role; else delete panel.dataset.stepRole;
      panel.querySelector(".ge-step-tag").textContent = role ? ` (${role === "writes" ? "written" : "read"} in this step)` : "";
    }
  }

  function goToStep(n) {  // show step n and point at one entry it writes, so its lights show
    state.step = Math.max(0, Math.min(spec.steps.length - 1, n));
    markStep();
    const target = spec.steps[state.step].writes[0];
    const k = key(target, shapeOf(spec, target, state.shapes).map((s) => Math.min(1, s - 1)));
    state.pinned = k;
    restore();
  }

  function syncSliders() {  // slider positions and the true-class slider's range after a change
    clampParams();  // an echo from the model can bring back a class the new shapes no longer have
    for (const input of controls.querySelectorAll("input[type=range]")) {
      const name = input.dataset.dim || input.dataset.param;
      const p = spec.params.find((q) => q.name === name);
      if (p) input.max = String(state.shapes[p.below] - 1);
      const v = input.dataset.dim ? state.shapes[name] : state.params[name];
      if (Number(input.value) !== v) input.value = String(v);
      input.parentElement.querySelector(".ge-number").textContent = String(v);
    }
  }

  function computeArrays() {
    clampParams();
    const given = givenArrays(spec, state.shapes, model.get("values"), state.params);
    arrays = evaluate(spec, state.shapes, given);
    const computed = model.get("computed") || {};
    source = "page";
    if (computed.variant === spec.variant && sameDict(computed.shapes, state.shapes) && sameDict(computed.params, state.params)) {
      for (const [name, nested] of Object.entries(computed.arrays || {})) {
        const shape = shapeOf(spec, name, state.shapes);
        arrays[name] = { shape, data: Float64Array.from(shape.length === 1 ? nested : nested.flat()) };
      }
      source = "gradlib";
    }
  }

  function build() {  // the grids, after a change of shape or map
    deps = dependencies(spec, state.shapes);  // lazy: costs nothing until used
    cells = new Map();
    litCells = [];
    board.replaceChildren();
    for (const role of ["input", "upstream", "output", "gradient"]) {
      const members = spec.arrays.filter((a) => a.role === role);
      if (!members.length) continue;
      const group = element("div", { class: "ge-group", "data-role": role });
      const titles = { ...ROLE_TITLES, ...Object.fromEntries(spec.group_titles || []) };
      const title = spec.rule === "jacobian" && role === "gradient" ? "Jacobian" : titles[role];
      group.append(element("div", { class: "ge-group-title" }, title));
      const panels = element("div", { class: "ge-panels" });
      for (const array of members) {
        const shape = shapeOf(spec, array.name, state.shapes);
        const [rows, cols] = shape.length === 2 ? shape : array.orientation === "column" ? [shape[0], 1] : [1, shape[0]];
        const panel = element("div", { class: "ge-array", "data-panel": array.name });
        const dims = array.dims.join("\u00d7");
        const name = array.label || array.name;
        const heading = element("div", { class: "ge-array-title" });
        heading.append(element("b", {}, name), ` ${dims} = ${shape.join("\u00d7")}`, element("span", { class: "ge-step-tag" }));
        const grid = element("div", { class: "ge-grid", role: "group", "aria-label": `${name}: ${array.meaning}, ${rows} by ${cols}` });
        grid.style.gridTemplateColumns = `repeat(${cols}, auto)`;
        const indices = allIndices(shape);
        const scale = scaleOf(arrays[array.name]);
        grid.innerHTML = indices.map((index) => {  // one parse per grid: the fastest way to make many cells
          const look = cellLook(array, index, get(arrays[array.name], index), scale);
          return `<button type="button" class="ge-cell" data-array="${array.name}" data-index="${index.join(",")}" `
            + `tabindex="-1" style="${look.style}" data-value="${look.value}" aria-label="${look.label}">${look.text}</button>`;
        }).join("");
        indices.forEach((index, k) => cells.set(key(array.name, index), grid.children[k]));
        grid.firstChild.tabIndex = 0;
        panel.append(heading, grid, element("div", { class: "ge-meaning" }, array.meaning));
        panels.append(panel);
      }
      group.append(panels);
      board.append(group);
    }
    jac = null;
    heads = new Map();
    if (state.view === "jacobian" && spec.output) board.append(jacobianPanel());
  }

  // The Jacobian as a table: rows = output entries, columns = the input's entries (flattened row by row),
  // labelled; structural zeros are empty cells. Wide ones (more than 8 columns) get small cells without
  // numbers (the caption gives each value) in a box that scrolls, with the labels kept in view.
  function jacobianPanel() {
    jac = jacobian(spec, state.shapes, arrays, state.wrt);
    const [height, width] = [jac.rows, jac.cols].map((s) => s.reduce((a, b) => a * b, 1));
    const wrtName = label(spec, state.wrt);
    const group = element("div", { class: "ge-group ge-jacobian", "data-role": "jacobian" });
    group.append(element("div", { class: "ge-group-title" }, `Jacobian \u2202${spec.output}/\u2202${wrtName}`),
      element("p", { class: "ge-jac-summary" }, jacobianSummary(spec, jac, state.wrt)));
    const scale = [...jac.entries.values()].reduce((m, e) => Math.max(m, Math.abs(e.value)), 0) || 1;
    const compact = width > 8;
    const rowName = (row) => entryText(spec.output, unflat(jac.rows, row));
    const colName = (col) => entryText(wrtName, unflat(jac.cols, col));
    let html = `<table class="ge-jac${compact ? " ge-compact" : ""}" aria-label="the Jacobian \u2202${spec.output}/\u2202${wrtName}, `
      + `${height} by ${width}"><thead><tr><th class="ge-corner" scope="col">${spec.output} \\ ${wrtName}</th>`;
    for (let col = 0; col < width; col++) html += `<th scope="col" data-col="${col}"><span>${colName(col)}</span></th>`;
    html += "</tr></thead><tbody>";
    for (let row = 0; row < height; row++) {
      html += `<tr><th scope="row" data-row="${row}">${rowName(row)}</th>`;
      for (let col = 0; col < width; col++) {
        const entry = jac.entries.get(row * width + col);
        const derivative = `\u2202${rowName(row)}/\u2202${colName(col)}`;
        const common = `type="button" class="ge-cell" data-array="jacobian" data-index="${row},${col}" tabindex="-1"`;
        if (!entry) {
          html += `<td><button ${common} data-zero="true" aria-label="${derivative} = 0, a structural zero"></button></td>`;
          continue;
        }
        const background = colour(entry.value / scale);
        html += `<td><button ${common} data-value="${entry.value}" aria-label="${derivative} = ${fmt(entry.value)}" `
          + `style="background-color: rgb(${background.join(",")}); color: ${textColour(background)}">${compact ? "" : fmt(entry.value)}</button></td>`;
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

  function showJacobian() {  // a new Jacobian panel in place of the old one (new numbers, or another input)
    for (const k of [...cells.keys()]) if (k.startsWith("jacobian|")) cells.delete(k);
    board.querySelector('[data-role="jacobian"]').replaceWith(jacobianPanel());
  }

  const scaleOf = (values) => values.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  function cellLook(array, index, v, scale) {
    const background = colour(v / scale);
    const text = fmt(v);
    return {
      style: `background-color: rgb(${background.join(",")}); color: ${textColour(background)}`,
      text, value: String(v), label: `${entryText(array.label || array.name, index)} = ${text}`,
    };
  }

  function paint() {  // new numbers (the kernel's) into the existing cells
    for (const array of spec.arrays) {
      const values = arrays[array.name];
      const scale = scaleOf(values);
      for (const index of allIndices(values.shape)) {
        const cell = cells.get(key(array.name, index));
        const look = cellLook(array, index, get(values, index), scale);
        cell.style.cssText = look.style;
        cell.textContent = look.text;
        cell.dataset.value = look.value;
        cell.setAttribute("aria-label", look.label);
      }
    }
    if (jac) showJacobian();
    showSource();
    if (state.mode === "predict") restore(); else if (state.selected) select(state.selected, false);
  }

  function showSource() {
    status.textContent = source === "gradlib"
      ? "Numbers computed by gradlib (in Python)."
      : "Numbers computed in this page from the rule's index pattern (no Python kernel needed).";
    status.dataset.source = source;
  }

  // The keys lit when pointing at k: the rule's lights (structure.lights); in the Jacobian view a
  // gradient entry (or its input entry) also lights the Jacobian column it is read from and the upstream
  // entries that weight it, and a Jacobian entry lights the output and input entries it relates.
  function related(k) {
    const [name, index] = parseKey(k);
    if (name === "jacobian") {
      const [row, col] = index;
      return new Set([key("row", [row]), key("col", [col]), key(state.wrt, unflat(jac.cols, col)),
        key(jac.upstream, unflat(jac.rows, row))]);
    }
    const out = deps.all(k);
    if (jac && (name === `d${state.wrt}` || name === state.wrt)) {
      const width = jac.cols.reduce((a, b) => a * b, 1);
      const col = flat(jac.cols, index);
      out.add(key("col", [col]));
      for (const at of jac.entries.keys()) {
        if (at % width !== col) continue;
        out.add(key("jacobian", [Math.floor(at / width), col]));
        out.add(key(jac.upstream, unflat(jac.rows, Math.floor(at / width))));
      }
    }
    return out;
  }

  // In the Jacobian view, what a gradient entry is: the upstream row times its Jacobian column.
  function columnNote(name, index) {
    if (!jac || name !== `d${state.wrt}`) return "";
    const width = jac.cols.reduce((a, b) => a * b, 1);
    const col = flat(jac.cols, index);
    const w = entryText(label(spec, state.wrt), index);
    const terms = [...jac.entries.keys()].filter((at) => at % width === col).map((at) => {
      const u = unflat(jac.rows, Math.floor(at / width));
      return `${entryText(label(spec, jac.upstream), u)} \u00d7 \u2202${entryText(spec.output, u)}/\u2202${w}`;
    });
    const sum = terms.length > 4 ? `${terms.slice(0, 3).join(" + ")} + \u2026 (${terms.length} terms)` : terms.join(" + ");
    return `. In the Jacobian: column ${col}, ${entryText(label(spec, name), index)} = ${sum}`;
  }

  let litCells = [];
  function clearLights() {
    for (const cell of litCells) { cell.removeAttribute("data-lit"); cell.removeAttribute("data-selected"); }
    litCells = [];
  }

  function select(k, pin) {
    if (!cells.has(k)) return;
    const [name, index] = parseKey(k);
    const input = pin && jac && spec.jacobian_notes.map(([n]) => n).find((n) => name === n || name === `d${n}`);
    if (input && input !== state.wrt) {  // clicking an entry of the other input shows its Jacobian
      state.wrt = input;
      modes.querySelector('[data-control="wrt"]').value = input;
      showJacobian();
    }
    clearLights();
    const cell = cells.get(k);
    litCells = [cell];
    cell.dataset.selected = "true";
    for (const other of related(k)) {
      const c = cells.get(other) || heads.get(other);
      c.dataset.lit = "true";
      litCells.push(c);
    }
    captionEl.textContent = name === "jacobian" ? jacobianCaption(spec, jac, state.wrt, ...index)
      : caption(spec, state.shapes, arrays, deps, name, index) + columnNote(name, index);
    state.selected = k;
    if (pin) {
      state.pinned = k;
      for (const c of cell.closest(".ge-grid, .ge-jac").querySelectorAll(".ge-cell")) c.tabIndex = c === cell ? 0 : -1;
      if (name !== "jacobian") {
        model.set("selection", { array: name, index });
        model.save_changes();
      }
    }
  }

  // --- predict mode: the reader picks the entries they expect to light, then the answer is revealed ---

  const VERDICTS = {
    hit: "right: a dependency you picked", miss: "missed: a dependency you did not pick",
    extra: "extra: you picked it, but it is not a dependency",
  };
  const baseLabel = (cell) => cell.getAttribute("aria-label").split(" \u2014 ")[0];

  function clearGuesses() {
    for (const cell of board.querySelectorAll("[data-guess], [data-verdict], [aria-pressed]")) {
      cell.removeAttribute("data-guess");
      cell.removeAttribute("data-verdict");
      cell.removeAttribute("aria-pressed");
      cell.setAttribute("aria-label", baseLabel(cell));
    }
    state.guesses = new Set();
    state.revealed = false;
    score.textContent = "";
  }

  function ask(k) {  // a new question about entry k: nothing lights until the reveal
    clearLights();
    clearGuesses();
    state.question = state.pinned = state.selected = k;
    const cell = cells.get(k);
    cell.dataset.selected = "true";
    litCells = [cell];
    const [name, index] = parseKey(k);
    const what = name === "jacobian" ? "the output and input entries it relates"
      : spec.relations.some((r) => r.target === name) ? "the entries it is computed from" : "the entries it feeds";
    captionEl.textContent = `Predict: which entries light up with ${name === "jacobian" ? cell.getAttribute("aria-label").split(" = ")[0]
      : entryText(label(spec, name), index)} (${what})? Click them (click again to unpick), then reveal the answer.`;
  }

  function guess(k) {
    if (state.revealed) { ask(k); return; }  // after a reveal, a click asks about that entry
    if (k === state.question) return;
    const cell = cells.get(k);
    const picked = !state.guesses.delete(k);
    if (picked) state.guesses.add(k);
    if (picked) cell.dataset.guess = "true"; else cell.removeAttribute("data-guess");
    cell.setAttribute("aria-pressed", String(picked));
    score.textContent = `${state.guesses.size} picked`;
  }

  function revealAnswer() {
    if (state.mode !== "predict" || !state.question) return;
    const truth = new Set([...related(state.question)].filter((k) => cells.has(k)));
    const found = { hit: [], miss: [], extra: [] };
    for (const [k, cell] of cells) {
      const verdict = truth.has(k) ? (state.guesses.has(k) ? "hit" : "miss") : state.guesses.has(k) ? "extra" : "";
      if (!verdict) continue;
      cell.dataset.verdict = verdict;
      cell.setAttribute("aria-label", `${baseLabel(cell)} \u2014 ${VERDICTS[verdict]}`);
      found[verdict].push(k);
    }
    state.revealed = true;
    score.textContent = scoreLine(spec, state.question, found, (k) => baseLabel(cells.get(k)).split(" = ")[0]);
  }

  // After a shape, view or mode change: the pinned entry's lights, or (predict mode) a new question about it.
  function restore() {
    state.selected = null;
    if (!cells.has(state.pinned)) state.pinned = clampedSelection(key(spec.select.array, spec.select.index));
    if (state.mode === "predict") ask(state.pinned); else select(state.pinned, false);
  }

  function clampedSelection(wanted) {  // the wanted entry, moved inside the current shapes
    if (!wanted) return null;
    const [name, index] = parseKey(wanted);
    if (!arrayOf(spec, name)) return null;
    const shape = shapeOf(spec, name, state.shapes);
    return key(name, index.map((i, a) => Math.min(i, shape[a] - 1)));
  }

  function rebuild() {
    computeArrays();
    build();
    showSource();
    const wanted = clampedSelection(state.pinned) || key(spec.select.array, spec.select.index);
    state.pinned = clampedSelection(wanted);
    restore();
    markStep();
  }

  const cellOf = (event) => event.target.closest && event.target.closest(".ge-cell");
  const keyOf = (c) => key(c.dataset.array, c.dataset.index.split(",").map(Number));
  const exploring = () => state.mode === "explore";
  board.addEventListener("pointerover", (event) => { const c = cellOf(event); if (c && exploring()) select(keyOf(c), false); });
  board.addEventListener("pointerleave", () => { if (exploring() && state.pinned && state.pinned !== state.selected) select(state.pinned, false); });
  board.addEventListener("click", (event) => { const c = cellOf(event); if (c) { if (exploring()) select(keyOf(c), true); else guess(keyOf(c)); } });
  board.addEventListener("focusin", (event) => { const c = cellOf(event); if (c && exploring()) select(keyOf(c), true); });
  board.addEventListener("keydown", (event) => {  // arrow keys move within a grid (or the Jacobian's table)
    const c = cellOf(event);
    const step = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[event.key];
    if (!c || !step) return;
    if (c.dataset.array === "jacobian") {
      const [row, col] = c.dataset.index.split(",").map(Number);
      const next = cells.get(key("jacobian", [row + step[0], col + step[1]]));
      if (next) { next.tabIndex = 0; c.tabIndex = -1; next.focus(); event.preventDefault(); }
      return;
    }
    const grid = c.parentElement;
    const cols = grid.style.gridTemplateColumns.match(/repeat\((\d+)/)[1] | 0;
    const k = [...grid.children].indexOf(c);
    const [r, q] = [Math.floor(k / cols) + step[0], (k % cols) + step[1]];
    const next = q >= 0 && q < cols ? grid.children[r * cols + q] : null;
    if (next) { next.focus(); event.preventDefault(); }
  });

  const initial = model.get("selection");
  if (initial && initial.array) state.pinned = key(initial.array, initial.index);
  buildControls();
  buildModes();
  buildStepper();
  rebuild();

  // Changes from Python (or the echo of our own): redo only what changed.
  const onState = () => {
    const [variant, shapes, params] = [model.get("variant"), model.get("shapes"), model.get("params")];
    if (variant === state.variant && sameDict(shapes, state.shapes) && sameDict(params, state.params)) return;
    const variantChanged = variant !== state.variant;
    Object.assign(state, { variant, shapes: { ...shapes }, params: { ...params } });
    if (variantChanged) { buildControls(); buildModes(); buildStepper(); } else syncSliders();
    rebuild();
  };
  const onComputed = () => { computeArrays(); paint(); };
  const onSelection = () => {
    const s = model.get("selection");
    if (exploring() && s && s.array && key(s.array, s.index) !== state.pinned) { state.pinned = clampedSelection(key(s.array, s.index)); select(state.pinned, false); }
  };
  const listeners = [["change:variant", onState], ["change:shapes", onState], ["change:params", onState],
    ["change:computed", onComputed], ["change:selection", onSelection]];
  for (const [event, callback] of listeners) model.on(event, callback);
  return () => { for (const [event, callback] of listeners) model.off(event, callback); };
}

export default { render };
