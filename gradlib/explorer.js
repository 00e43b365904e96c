// The view of gradlib.explorer.Explorer (an anywidget): a rule's arrays as grids of cells.
//
// Everything comes from the rule's spec (gradlib/structure.py, sent as the `specs` trait): the
// dependency patterns ("il,jl->ij") give both the lit cells and the values, so the view keeps
// working on a static page with no kernel. When a kernel answers, the numbers it computed with
// gradlib (the `computed` trait) are shown instead; the two agree (tests/test_explorer.py).
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

const patterns = new Map();
function splitPattern(pattern) {  // "il,jl->ij" -> {inputs: ["il", "jl"], output: "ij"} (memoised: called per entry)
  if (!patterns.has(pattern)) {
    const [lhs, output] = pattern.split("->");
    patterns.set(pattern, { inputs: lhs.split(","), output });
  }
  return patterns.get(pattern);
}

// --- which entries an entry is computed from -----------------------------------------------------

// The (operand, index) pairs that `entry` of the relation's target reads through `term`.
export function sources(shapes, term, entry) {
  const { inputs, output } = splitPattern(term.pattern);
  if (term.constant_if_one && shapes[term.letters[term.constant_if_one]] === 1) return [];
  const bound = {};
  [...output].forEach((c, k) => { bound[c] = entry[k]; });
  const free = [...new Set(inputs.join(""))].filter((c) => !(c in bound)).sort();
  const out = [];
  for (const combo of allIndices(free.map((c) => shapes[term.letters[c]]))) {
    const at = { ...bound };
    free.forEach((c, k) => { at[c] = combo[k]; });
    term.operands.forEach((name, k) => out.push([name, [...inputs[k]].map((c) => at[c])]));
  }
  return out;
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
  const { inputs, output } = splitPattern(term.pattern);
  const free = [...new Set(inputs.join(""))].filter((c) => !output.includes(c)).sort();
  const combos = allIndices(free.map((c) => shapes[term.letters[c]]));
  const out = zeros(shape);
  for (const entry of allIndices(shape)) {
    const at = {};
    [...output].forEach((c, k) => { at[c] = entry[k]; });
    let sum = 0;
    for (const combo of combos) {
      free.forEach((c, k) => { at[c] = combo[k]; });
      let prod = 1;
      operands.forEach((op, k) => { prod *= get(op, [...inputs[k]].map((c) => at[c])); });
      sum += prod;
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

// --- captions ---------------------------------------------------------------------------------------

export function fmt(v) {
  const text = (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
  return text.replace("-", MINUS);
}
const factor = (v) => (fmt(v).startsWith(MINUS) ? `(${fmt(v)})` : fmt(v));

// Symbolic text of one term at `entry` (the twin of structure._term_text).
function termText(spec, term, entry) {
  if (term.mean_over) return `${termText(spec, { ...term, mean_over: "" }, entry)} / ${term.letters[term.mean_over]}`;
  const { inputs, output } = splitPattern(term.pattern);
  const bound = {};
  [...output].forEach((c, k) => { bound[c] = entry[k]; });
  const names = term.operands.map((o) => label(spec, o));
  if (term.fn === "product") {
    const summed = [...new Set(inputs.join(""))].filter((c) => !(c in bound)).sort().join("");
    const factors = names.map((n, k) => entryText(n, [...inputs[k]].map((c) => (c in bound ? bound[c] : c)))).join(" \u00d7 ");
    return summed ? `\u03a3_${summed} ${factors}` : factors;
  }
  if (term.fn === "softmax") return `softmax(${names[0]})[${entry[0]}]`;
  if (term.fn === "tanh") return `tanh(${entryText(names[0], entry)})`;
  if (term.fn === "relu") return `max(0, ${entryText(names[0], entry)})`;
  if (term.fn === "relu_mask") return `${entryText(names[0], entry)} \u00d7 1[${entryText(names[1], entry)} > 0]`;
  if (term.fn === "softmax_rows") return `softmax(${names[0]}[${entry[0]},:])[${entry[1]}]`;
  const [i, j] = entry;
  const f = entryText(names[names.length - 2], [i]);
  const derivative = `\u2202${f}/\u2202${entryText(names[names.length - 1], [j])}`;
  if (term.fn === "jacobian_linear") return `${derivative} = ${entryText(names[0], entry)}`;
  if (term.fn === "jacobian_tanh") return i === j ? `${derivative} = 1 ${MINUS} ${f}\u00b2` : `${derivative} = 0`;
  return i === j ? `${derivative} = ${f} \u00d7 (1 ${MINUS} ${f})`
    : `${derivative} = ${MINUS}${f} \u00d7 ${entryText(names[names.length - 2], [j])}`;
}

// The same term with the numbers filled in, and a remark where one helps.
function termNumbers(spec, shapes, term, entry, arrays) {
  if (term.mean_over) {
    const { text, note } = termNumbers(spec, shapes, { ...term, mean_over: "" }, entry, arrays);
    return { text: text && `${text.includes(" ") ? `(${text})` : text} / ${shapes[term.letters[term.mean_over]]}`, note };
  }
  const { inputs, output } = splitPattern(term.pattern);
  const ops = term.operands.map((o) => arrays[o]);
  if (term.fn === "product") {
    const bound = {};
    [...output].forEach((c, k) => { bound[c] = entry[k]; });
    const free = [...new Set(inputs.join(""))].filter((c) => !(c in bound)).sort();
    const parts = allIndices(free.map((c) => shapes[term.letters[c]])).map((combo) => {
      const at = { ...bound };
      free.forEach((c, k) => { at[c] = combo[k]; });
      return ops.map((op, k) => factor(get(op, [...inputs[k]].map((c) => at[c])))).join(" \u00d7 ");
    });
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

// Index formula (the same text as structure.formula), the numbers, the value.
export function formulaOf(spec, relation, entry) {
  const parts = relation.terms.map((term, n) => {
    const text = termText(spec, term, entry);
    if (n === 0) return term.sign > 0 ? text : `${MINUS}${text}`;
    return `${term.sign > 0 ? "+" : MINUS} ${text}`;
  });
  return `${entryText(label(spec, relation.target), entry)} = ${parts.join(" ")}`;
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
  };
  let spec, deps, arrays, cells, source;
  const root = element("div", { class: "gradlib-explorer", "data-rule": model.get("rule") });
  const head = element("div", { class: "ge-head" });
  const controls = element("div", { class: "ge-controls" });
  const board = element("div", { class: "ge-board" });
  const stepper = element("div", { class: "ge-steps" });  // chained specs (chapter 8): walk the pass
  const captionEl = element("p", { class: "ge-caption", "aria-live": "polite" });
  const status = element("p", { class: "ge-status" });
  const legend = element("p", { class: "ge-legend" });
  legend.innerHTML = '<span class="ge-key ge-key-selected">0.00</span> the entry you point at '
    + '<span class="ge-key ge-key-lit">0.00</span> the entries it is computed from, or feeds '
    + '<span class="ge-scale" aria-hidden="true"></span> colour: blue below 0, white at 0, red above. '
    + 'Indices count from 0, as in code (the math counts from 1).';
  root.append(head, controls, stepper, board, captionEl, status, legend);
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
    select(k, false);
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
    showSource();
    if (state.selected) select(state.selected, false);
  }

  function showSource() {
    status.textContent = source === "gradlib"
      ? "Numbers computed by gradlib (in Python)."
      : "Numbers computed in this page from the rule's index pattern (no Python kernel needed).";
    status.dataset.source = source;
  }

  let litCells = [];
  function select(k, pin) {
    if (!cells.has(k)) return;
    for (const cell of litCells) { cell.removeAttribute("data-lit"); cell.removeAttribute("data-selected"); }
    const cell = cells.get(k);
    litCells = [cell];
    cell.dataset.selected = "true";
    for (const other of deps.all(k)) {
      const c = cells.get(other);
      c.dataset.lit = "true";
      litCells.push(c);
    }
    const [name, index] = parseKey(k);
    captionEl.textContent = caption(spec, state.shapes, arrays, deps, name, index);
    state.selected = k;
    if (pin) {
      state.pinned = k;
      for (const c of cell.parentElement.children) c.tabIndex = c === cell ? 0 : -1;
      model.set("selection", { array: name, index });
      model.save_changes();
    }
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
    state.selected = null;
    const wanted = clampedSelection(state.pinned) || key(spec.select.array, spec.select.index);
    state.pinned = clampedSelection(wanted);
    select(state.pinned, false);
    markStep();
  }

  const cellOf = (event) => event.target.closest && event.target.closest(".ge-cell");
  board.addEventListener("pointerover", (event) => { const c = cellOf(event); if (c) select(key(c.dataset.array, c.dataset.index.split(",").map(Number)), false); });
  board.addEventListener("pointerleave", () => { if (state.pinned && state.pinned !== state.selected) select(state.pinned, false); });
  board.addEventListener("click", (event) => { const c = cellOf(event); if (c) select(key(c.dataset.array, c.dataset.index.split(",").map(Number)), true); });
  board.addEventListener("focusin", (event) => { const c = cellOf(event); if (c) select(key(c.dataset.array, c.dataset.index.split(",").map(Number)), true); });
  board.addEventListener("keydown", (event) => {  // arrow keys move within a grid
    const c = cellOf(event);
    const step = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[event.key];
    if (!c || !step) return;
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
  buildStepper();
  rebuild();

  // Changes from Python (or the echo of our own): redo only what changed.
  const onState = () => {
    const [variant, shapes, params] = [model.get("variant"), model.get("shapes"), model.get("params")];
    if (variant === state.variant && sameDict(shapes, state.shapes) && sameDict(params, state.params)) return;
    const variantChanged = variant !== state.variant;
    Object.assign(state, { variant, shapes: { ...shapes }, params: { ...params } });
    if (variantChanged) { buildControls(); buildStepper(); } else syncSliders();
    rebuild();
  };
  const onComputed = () => { computeArrays(); paint(); };
  const onSelection = () => {
    const s = model.get("selection");
    if (s && s.array && key(s.array, s.index) !== state.pinned) { state.pinned = clampedSelection(key(s.array, s.index)); select(state.pinned, false); }
  };
  const listeners = [["change:variant", onState], ["change:shapes", onState], ["change:params", onState],
    ["change:computed", onComputed], ["change:selection", onSelection]];
  for (const [event, callback] of listeners) model.on(event, callback);
  return () => { for (const [event, callback] of listeners) model.off(event, callback); };
}

export default { render };
