// The explorer's view state, with no DOM: what the reader has done (a state) and what the view shows
// for it (derive): the entry pointed at, the lit entries, the caption, predict mode's marks and score,
// the Jacobian, chapter 9's step. The DOM pieces (controls, grids, jacobian_table, predict, stepper)
// only draw what derive returns and turn events into actions for reduce.

import { allIndices, arrayOf, entryText, fmt, get, key, label, nameOf, parseKey, shapeOf } from "./arrays.js";
import { caption, questionText, scoreLine } from "./captions.js";
import { columnLights, columnNote, jacobian, jacobianCaption, jacobianEntryLights } from "./jacobian.js";
import { dependencies, evaluate, givenArrays } from "./values.js";

const sameDict = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b || {});

// Everything that depends on the spec and shapes only: the arrays' values (gradlib's, from `computed`,
// when the kernel sent them for these shapes; else the page's own), the lights, the Jacobians.
export function context(spec, shapes, params, values, computed = {}) {
  const clamped = { ...params };
  for (const p of spec.params) clamped[p.name] = Math.min(params[p.name] ?? p.default, shapes[p.below] - 1);
  const arrays = evaluate(spec, shapes, givenArrays(spec, shapes, values, clamped));
  let source = "page";
  if (computed && computed.variant === spec.variant && sameDict(computed.shapes, shapes) && sameDict(computed.params, clamped)) {
    for (const [name, nested] of Object.entries(computed.arrays || {})) {
      const shape = shapeOf(spec, name, shapes);
      arrays[name] = { shape, data: Float64Array.from(shape.length === 1 ? nested : nested.flat()) };
    }
    source = "gradlib";
  }
  const jacobians = {};
  return {
    spec, shapes, params: clamped, arrays, source, deps: dependencies(spec, shapes),
    jacobian: (wrt) => (jacobians[wrt] = jacobians[wrt] || jacobian(spec, shapes, arrays, wrt)),
    inputs: spec.output ? spec.jacobian_notes.map(([name]) => name) : [],
  };
}

export const STATUS = {
  gradlib: "Values computed by gradlib in Python, from the rule.",
  page: "Values computed in your browser from the rule (no Python needed).",
};

// The entry `wanted` moved inside the current shapes (null if its array is not in the spec).
export function clampKey(ctx, wanted) {
  if (!wanted) return null;
  const [name, index] = parseKey(wanted);
  if (name === "jacobian" || !arrayOf(ctx.spec, name)) return null;
  const shape = shapeOf(ctx.spec, name, ctx.shapes);
  return key(name, index.map((i, a) => Math.min(i, shape[a] - 1)));
}

const better = (a, b) => { for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i]; return false; };

// An entry that shows what step k computes: of the first array it writes, the entry whose value and
// sources are most often nonzero (never "0.40 × 0.00 + 0.00 × ..." when a better one exists).
export function stepExample(ctx, k) {
  const name = ctx.spec.steps[k].writes[0];
  let best = null;
  for (const index of allIndices(shapeOf(ctx.spec, name, ctx.shapes))) {
    const from = [...ctx.deps.from(key(name, index))];
    const nonzero = from.filter((s) => { const [n, i] = parseKey(s); return Math.abs(get(ctx.arrays[n], i)) >= 0.005; }).length;
    const value = Math.abs(get(ctx.arrays[name], index));
    const score = [value >= 0.005 ? 1 : 0, from.length ? nonzero / from.length : 1, value];
    if (!best || better(score, best.score)) best = { score, index };
  }
  return key(name, best.index);
}

export function initialState(ctx, selection) {
  const { spec } = ctx;
  const wanted = selection && selection.array ? key(selection.array, selection.index) : key(spec.select.array, spec.select.index);
  const wrt = ctx.inputs.find((n) => `d${n}` === spec.select.array) || ctx.inputs[0] || "";
  const state = { view: "normal", wrt, mode: "explore", pinned: clampKey(ctx, wanted), pointed: null,
    question: null, guesses: [], revealed: false, step: 0 };
  return spec.steps.length ? { ...state, pinned: stepExample(ctx, 0) } : state;
}

const fresh = { guesses: [], revealed: false };
const inputOf = (ctx, name) => ctx.inputs.find((n) => name === n || name === `d${n}`);

// The next state after `action` ({type, ...}). Types: point (hover) / leave, pin (click or focus in
// explore mode), click, view, wrt, mode, reveal, another (predict: ask about the next entry), step, reshape.
export function reduce(ctx, state, action) {
  const ask = (k) => ({ ...state, ...fresh, question: k, pinned: k, pointed: null });
  switch (action.type) {
    case "point": return state.mode === "explore" ? { ...state, pointed: action.key } : state;
    case "leave": return { ...state, pointed: null };
    case "pin": {
      if (state.mode !== "explore") return state;
      const [name] = parseKey(action.key);
      const input = state.view === "jacobian" && inputOf(ctx, name);
      return { ...state, pinned: action.key, pointed: null, wrt: input || state.wrt };
    }
    case "click": {
      if (state.mode === "explore") return reduce(ctx, state, { ...action, type: "pin" });
      if (state.revealed || !state.question) return ask(action.key);  // after a reveal, a click asks again
      if (action.key === state.question) return state;
      const guesses = state.guesses.includes(action.key) ? state.guesses.filter((g) => g !== action.key)
        : [...state.guesses, action.key];
      return { ...state, guesses };
    }
    case "view": {
      const view = ctx.spec.output ? action.view : "normal";
      const leaving = view !== "jacobian" && state.pinned && parseKey(state.pinned)[0] === "jacobian";
      return restart(ctx, { ...state, view, pinned: leaving ? defaultKey(ctx) : state.pinned || defaultKey(ctx) });
    }
    case "wrt": {
      const pinned = state.pinned && parseKey(state.pinned)[0] === "jacobian" ? defaultKey(ctx) : state.pinned;
      return restart(ctx, { ...state, wrt: action.wrt, view: "jacobian", pinned });
    }
    case "mode": return restart(ctx, { ...state, mode: action.mode, pointed: null });
    case "reveal": return state.mode === "predict" && state.question ? { ...state, revealed: true } : state;
    case "another": return ask(anotherEntry(ctx, state, state.question || state.pinned));
    case "step": {
      const step = Math.max(0, Math.min(ctx.spec.steps.length - 1, action.step));
      return restart(ctx, { ...state, step, pinned: stepExample(ctx, step), pointed: null });
    }
    case "reshape": {  // after a change of shapes or map: the pinned entry moved inside the new shapes
      const pinned = state.pinned && parseKey(state.pinned)[0] === "jacobian" ? inJacobian(ctx, state) : clampKey(ctx, state.pinned);
      const wrt = ctx.inputs.includes(state.wrt) ? state.wrt : ctx.inputs[0] || "";
      const step = Math.min(state.step, Math.max(0, ctx.spec.steps.length - 1));
      return restart(ctx, { ...state, wrt, step, view: ctx.spec.output ? state.view : "normal", pinned: pinned || defaultKey(ctx),
        pointed: null });
    }
    default: throw new Error(`explorer: unknown action ${action.type}`);
  }
}

const defaultKey = (ctx) => clampKey(ctx, key(ctx.spec.select.array, ctx.spec.select.index));
const inJacobian = (ctx, state) => {
  const jac = ctx.jacobian(state.wrt);
  const [, [row, col]] = parseKey(state.pinned);
  return row < jac.height && col < jac.width ? state.pinned : null;
};
// After a change of view, mode or shapes: predict mode asks about the pinned entry afresh.
const restart = (ctx, state) => (state.mode === "predict" ? { ...state, ...fresh, question: state.pinned }
  : { ...state, ...fresh, question: null });

// The entry after `k` in its array (row by row, wrapping round), for "another entry".
export function anotherEntry(ctx, state, k) {
  const [name, index] = parseKey(k);
  const entries = name === "jacobian" ? allIndices([ctx.jacobian(state.wrt).height, ctx.jacobian(state.wrt).width])
    : allIndices(shapeOf(ctx.spec, name, ctx.shapes));
  const at = entries.findIndex((e) => e.join(",") === index.join(","));
  return key(name, entries[(at + 1) % entries.length]);
}

// The arrays chapter 9's step k has not computed yet (written by a later step): shown without numbers.
export function pendingArrays(spec, step) {
  return new Set(spec.steps.slice(step + 1).flatMap((s) => s.writes));
}

// The entries that light when pointing at k: the rule's lights (structure.lights); in the Jacobian view
// a gradient or input entry also lights its Jacobian column, and a Jacobian entry what it is made of.
export function litFor(ctx, state, k) {
  const [name, index] = parseKey(k);
  if (name === "jacobian") return jacobianEntryLights(ctx.jacobian(state.wrt), ...index);
  const out = ctx.deps.all(k);
  if (state.view === "jacobian" && (name === `d${state.wrt}` || name === state.wrt)) {
    for (const other of columnLights(ctx.jacobian(state.wrt), index)) out.add(other);
  }
  return out;
}

export const entryName = (ctx, state, k) => {
  const [name, [row, col]] = parseKey(k);
  if (name !== "jacobian") return nameOf(ctx.spec, k);
  const jac = ctx.jacobian(state.wrt);
  return `\u2202${jacobianCaption(ctx.spec, jac, row, col).split(" = ")[0].slice(1)}`;
};

// The caption of entry k (explore mode).
export function captionFor(ctx, state, k) {
  const { spec } = ctx;
  const [name, index] = parseKey(k);
  if (name === "jacobian") return jacobianCaption(spec, ctx.jacobian(state.wrt), ...index);
  const pending = spec.steps.length && pendingArrays(spec, state.step).has(name);
  if (pending) {
    const by = spec.steps.findIndex((s) => s.writes.includes(name));
    const relation = spec.relations.find((r) => r.target === name);
    const formula = relation.formula.replace(/\{(\d+)\}/g, (_, a) => index[Number(a)]).split(" = ").slice(0, 2).join(" = ");
    return `${formula}: not computed yet (step ${by + 1} computes it)`;
  }
  const text = caption(spec, ctx.shapes, ctx.arrays, ctx.deps, name, index);
  return state.view === "jacobian" && name === `d${state.wrt}` ? text + columnNote(spec, ctx.jacobian(state.wrt), index) : text;
}

// Predict mode's verdicts: every key of `truth` or `guesses`, as hit / miss / extra.
export function verdicts(truth, guesses) {
  const found = { hit: [], miss: [], extra: [] };
  for (const k of truth) found[guesses.includes(k) ? "hit" : "miss"].push(k);
  for (const k of guesses) if (!truth.has(k)) found.extra.push(k);
  return found;
}

// What the view shows for `state`: {selected, lit (Set of keys, with "row|r"/"col|c" for the Jacobian's
// labels), caption, score, marks (Map key -> guess/hit/miss/extra), found, step, pending, jacobian}.
export function derive(ctx, state) {
  const { spec } = ctx;
  const jac = state.view === "jacobian" && spec.output ? ctx.jacobian(state.wrt) : null;
  const step = spec.steps.length ? stepView(spec, state.step) : null;
  const pending = spec.steps.length ? pendingArrays(spec, state.step) : new Set();
  const base = { jacobian: jac, step, pending, marks: new Map(), found: null, score: "" };
  if (state.mode === "predict" && state.question) {
    const q = state.question;
    const name = (k) => entryName(ctx, state, k);
    if (!state.revealed) {
      for (const g of state.guesses) base.marks.set(g, "guess");
      const picked = state.guesses.length ? ` ${state.guesses.length} picked.` : "";
      return { ...base, selected: q, lit: new Set(), caption: `${questionText(spec, q, name)}${picked}`,
        score: state.guesses.length ? `${state.guesses.length} picked` : "" };
    }
    const truth = new Set([...litFor(ctx, state, q)].filter((k) => !k.startsWith("row|") && !k.startsWith("col|")));
    const found = verdicts(truth, state.guesses);
    for (const [verdict, keys] of Object.entries(found)) for (const k of keys) base.marks.set(k, verdict);
    const score = scoreLine(spec, q, found, name);
    const extra = found.extra.length ? `, ${found.extra.length} extra` : "";
    return { ...base, selected: q, lit: new Set(), found, score,
      caption: `${name(q)}: ${found.hit.length} of ${found.hit.length + found.miss.length}${extra} (each entry is marked; `
        + 'the line below names them). Click any entry, or "another entry", to ask again.' };
  }
  const k = state.pointed || state.pinned;
  return { ...base, selected: k, lit: litFor(ctx, state, k), caption: captionFor(ctx, state, k) };
}

// Chapter 9's step k: its text, and each array's part in it (reads / writes / idle).
export function stepView(spec, k) {
  const step = spec.steps[k];
  const names = (list) => list.map((n) => label(spec, n)).join(", ");
  const roles = {};
  for (const array of spec.arrays) {
    roles[array.name] = step.writes.includes(array.name) ? "writes" : step.reads.includes(array.name) ? "reads" : "idle";
  }
  return { index: k, count: spec.steps.length, roles, first: k === 0, last: k === spec.steps.length - 1,
    text: `Step ${k + 1} of ${spec.steps.length}: ${step.title} \u2014 ${step.rule}. Reads ${names(step.reads)}; `
      + `writes ${names(step.writes)}. In gradlib.mlp: ${step.code}` };
}

// A cell's text and label: the value, or nothing for an array chapter 9's current step has not computed.
export function cellText(spec, name, index, value, pending) {
  const entry = entryText(label(spec, name), index);
  return pending.has(name) ? { text: "", label: `${entry}: not computed yet` } : { text: fmt(value), label: `${entry} = ${fmt(value)}` };
}
