// render({model, el}): anywidget's entry point. Holds the state, turns events into actions for
// state.reduce, and draws state.derive's answer with the pieces (controls, grids, jacobian_table,
// predict, stepper). Keyboard focus never leaves the explorer on a redraw (dom.keepFocus).

import { key, parseKey } from "./arrays.js";
import { buildControls, buildModes, syncModes, syncSliders } from "./controls.js";
import { element, keepFocus } from "./dom.js";
import { buildBoard, paint } from "./grids.js";
import { jacobianPanel } from "./jacobian_table.js";
import { applyMarks, legends } from "./predict.js";
import { STATUS, context, derive, initialState, reduce } from "./state.js";
import { buildStepper, markStep, otherStepButton } from "./stepper.js";

let counter = 0;
const sameDict = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b || {});
const ARROWS = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

export function render({ model, el }) {
  const id = `gradlib-explorer-${++counter}-${Math.random().toString(36).slice(2, 7)}`;
  const specs = model.get("specs");
  let variant = model.get("variant");
  let shapes = { ...model.get("shapes") };
  let params = { ...model.get("params") };
  let spec = specs.find((s) => s.variant === variant) || specs[0];
  let ctx = context(spec, shapes, params, model.get("values"), model.get("computed"));
  let state = initialState(ctx, model.get("selection"));
  let cells = new Map();
  let heads = new Map();
  let shown = { lit: new Set(), selected: null, marks: new Map(), jacobian: null, pending: null };

  const root = element("div", { class: "gradlib-explorer", "data-rule": model.get("rule") });
  const head = element("div", { class: "ge-head" });
  let controls = element("div");
  let modes = element("div");
  let stepper = element("div");
  const board = element("div", { class: "ge-board" });
  const captionEl = element("p", { class: "ge-caption", "aria-live": "polite" });
  const score = element("p", { class: "ge-score", "aria-live": "polite" });
  const status = element("p", { class: "ge-status" });
  const { legend, predict } = legends();
  const bar = element("div", { class: "ge-bar" });  // the toggles, then the step buttons and text (chapter 9)
  bar.append(modes, stepper);
  root.append(head, controls, bar, board, captionEl, score, status, legend, predict);
  el.replaceChildren(root);

  const clampParams = () => {  // the true class stays below the number of classes
    for (const p of spec.params) params[p.name] = Math.min(params[p.name] ?? p.default, shapes[p.below] - 1);
  };
  const sizeChanged = (attr, name, value) => {
    if (attr === "data-dim") shapes[name] = value; else params[name] = value;
    clampParams();
    syncSliders(controls, spec, shapes, params);
    newContext();
    model.set("shapes", { ...shapes });
    model.set("params", { ...params });
    model.save_changes();
  };
  const variantChanged = (name) => {
    variant = name;
    model.set("variant", variant);
    model.save_changes();
    newSpec();
  };

  function newSpec() {  // the controls of another map (chapter 1), then everything else
    spec = specs.find((s) => s.variant === variant) || specs[0];
    root.dataset.variant = spec.variant;
    head.replaceChildren(element("span", { class: "ge-title" }, spec.title));
    clampParams();
    const fresh = [buildControls(id, specs, spec, shapes, params, { variant: variantChanged, size: sizeChanged }),
      buildModes(spec, spec.output ? spec.jacobian_notes.map(([n]) => n) : [], dispatch),
      buildStepper(spec, dispatch, () => state.step)];
    controls.replaceWith(fresh[0]);
    modes.replaceWith(fresh[1]);
    stepper.replaceWith(fresh[2]);
    [controls, modes, stepper] = fresh;
    newContext();
  }

  function newContext() {  // new shapes, map or numbers: new grids
    ctx = context(spec, shapes, params, model.get("values"), model.get("computed"));
    state = reduce(ctx, state, { type: "reshape" });
    drawBoard();
    draw();
  }

  function drawBoard() {
    cells = new Map();
    heads = new Map();
    const view = derive(ctx, state);
    board.replaceChildren(...buildBoard(ctx, view.pending, cells));
    shown = { lit: new Set(), selected: null, marks: new Map(), jacobian: null, pending: view.pending };
    status.textContent = STATUS[ctx.source];
    status.dataset.source = ctx.source;
  }

  function drawJacobian(jac) {  // the Jacobian's panel, when it is not the one shown
    if (jac === shown.jacobian) return;
    for (const k of [...cells.keys()]) if (k.startsWith("jacobian|")) cells.delete(k);
    heads = new Map();
    const old = board.querySelector('[data-role="jacobian"]');
    if (old) old.remove();
    if (jac) board.append(jacobianPanel(spec, jac, cells, heads));
    shown = { ...shown, jacobian: jac, lit: new Set(), selected: null, marks: new Map() };
  }

  function draw() {  // the state's lights, caption, marks, step and toggles
    const view = derive(ctx, state);
    root.dataset.view = state.view;
    root.dataset.mode = state.mode;
    predict.hidden = state.mode !== "predict";
    syncModes(modes, state);
    drawJacobian(view.jacobian);
    if ([...view.pending].join() !== [...shown.pending].join()) {
      paint(ctx, view.pending, cells);
      shown.pending = view.pending;
    }
    markStep(stepper, board, view.step);
    for (const k of shown.lit) if (!view.lit.has(k)) (cells.get(k) || heads.get(k) || {}).removeAttribute?.("data-lit");
    for (const k of view.lit) (cells.get(k) || heads.get(k) || { dataset: {} }).dataset.lit = "true";
    if (shown.selected && shown.selected !== view.selected && cells.get(shown.selected)) cells.get(shown.selected).removeAttribute("data-selected");
    if (cells.get(view.selected)) cells.get(view.selected).dataset.selected = "true";
    applyMarks(cells, view.marks, shown.marks);
    shown = { ...shown, lit: view.lit, selected: view.selected, marks: view.marks };
    captionEl.textContent = view.caption;
    score.textContent = view.score;
  }

  function dispatch(action) {
    keepFocus(root, () => {
      const before = state;
      state = reduce(ctx, state, action);
      if (state.pinned !== before.pinned && action.type !== "point" && state.pinned && !state.pinned.startsWith("jacobian|")) {
        const [array, index] = parseKey(state.pinned);
        model.set("selection", { array, index });
        model.save_changes();
      }
      draw();
      if (action.type === "pin" || action.type === "click") rove(cells.get(action.key));
    }, otherStepButton);
  }

  function rove(cell) {  // the pinned cell is its grid's one tab stop
    if (!cell) return;
    for (const c of cell.closest(".ge-grid, .ge-jac").querySelectorAll(".ge-cell")) c.tabIndex = c === cell ? 0 : -1;
  }

  const cellOf = (event) => event.target.closest && event.target.closest(".ge-cell");
  const keyOf = (c) => key(c.dataset.array, c.dataset.index.split(",").map(Number));
  board.addEventListener("pointerover", (event) => { const c = cellOf(event); if (c && state.mode === "explore") dispatch({ type: "point", key: keyOf(c) }); });
  board.addEventListener("pointerleave", () => { if (state.pointed) dispatch({ type: "leave" }); });
  board.addEventListener("click", (event) => { const c = cellOf(event); if (c) dispatch({ type: "click", key: keyOf(c) }); });
  board.addEventListener("focusin", (event) => { const c = cellOf(event); if (c && state.mode === "explore") dispatch({ type: "pin", key: keyOf(c) }); });
  board.addEventListener("keydown", (event) => {  // arrow keys move within a grid (or the Jacobian's table)
    const c = cellOf(event);
    const step = ARROWS[event.key];
    if (!c || !step) return;
    let next = null;
    if (c.dataset.array === "jacobian") {
      const [row, col] = c.dataset.index.split(",").map(Number);
      next = cells.get(key("jacobian", [row + step[0], col + step[1]]));
    } else {
      const grid = c.parentElement;
      const cols = Number(grid.dataset.cols);
      const k = [...grid.children].indexOf(c);
      const [r, q] = [Math.floor(k / cols) + step[0], (k % cols) + step[1]];
      next = q >= 0 && q < cols ? grid.children[r * cols + q] : null;
    }
    if (next) { next.tabIndex = 0; c.tabIndex = -1; next.focus(); event.preventDefault(); }
  });

  newSpec();
  const initial = model.get("selection") || {};
  if (state.pinned && state.pinned !== key(initial.array || "", initial.index || [])) {  // chapter 9 starts on step 1's example
    const [array, index] = parseKey(state.pinned);
    model.set("selection", { array, index });
    model.save_changes();
  }

  // Changes from Python (or the echo of our own): redo only what changed.
  const onState = () => {
    const [v, s, p] = [model.get("variant"), model.get("shapes"), model.get("params")];
    if (v === variant && sameDict(s, shapes) && sameDict(p, params)) return;
    const variantMoved = v !== variant;
    [variant, shapes, params] = [v, { ...s }, { ...p }];
    clampParams();  // an echo of the shapes can come before the echo of the clamped class
    keepFocus(root, () => { if (variantMoved) newSpec(); else { syncSliders(controls, spec, shapes, params); newContext(); } });
  };
  const onComputed = () => {
    ctx = context(spec, shapes, params, model.get("values"), model.get("computed"));
    shown.jacobian = null;
    paint(ctx, shown.pending, cells);
    status.textContent = STATUS[ctx.source];
    status.dataset.source = ctx.source;
    keepFocus(root, draw);
  };
  const onSelection = () => {
    const s = model.get("selection");
    if (state.mode === "explore" && s && s.array && key(s.array, s.index) !== state.pinned) dispatch({ type: "pin", key: key(s.array, s.index) });
  };
  const listeners = [["change:variant", onState], ["change:shapes", onState], ["change:params", onState],
    ["change:computed", onComputed], ["change:selection", onSelection]];
  for (const [event, callback] of listeners) model.on(event, callback);
  return () => { for (const [event, callback] of listeners) model.off(event, callback); };
}
