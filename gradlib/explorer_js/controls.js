// The controls: the map select (chapter 1), a slider per dimension and parameter, and the toggles of
// view (gradients / Jacobian, with the input the Jacobian is taken with respect to) and mode (explore /
// predict first, with Reveal and "another entry").

import { label } from "./arrays.js";
import { element } from "./dom.js";

// The map select and the sliders of `spec`; `on.variant(name)` and `on.size(attr, name, value)` report changes.
export function buildControls(id, specs, spec, shapes, params, on) {
  const controls = element("div", { class: "ge-controls" });
  if (specs.length > 1) {
    const wrap = element("div", { class: "ge-control" });
    const select = element("select", { id: `${id}-variant`, "data-param": "variant" });
    for (const s of specs) {
      const option = element("option", { value: s.variant }, s.title);
      option.selected = s.variant === spec.variant;
      select.append(option);
    }
    select.addEventListener("change", () => on.variant(select.value));
    wrap.append(element("label", { for: select.id }, "map "), select);
    controls.append(wrap);
  }
  const sliders = [
    ...spec.dims.map((d) => ({ name: d.name, min: d.low, max: d.high, meaning: d.meaning, attr: "data-dim", value: shapes[d.name] })),
    ...spec.params.map((p) => ({ name: p.name, min: 0, max: shapes[p.below] - 1, meaning: p.meaning, attr: "data-param", value: params[p.name] })),
  ];
  for (const s of sliders) {
    const wrap = element("div", { class: "ge-control" });
    const input = element("input", { type: "range", id: `${id}-${s.name}`, min: s.min, max: s.max, step: 1, [s.attr]: s.name });
    input.value = s.value;
    const text = element("label", { for: input.id });
    const number = element("span", { class: "ge-number" }, String(s.value));
    text.append(element("span", { class: "ge-dim" }, s.name), " = ", number, element("span", { class: "ge-meaning" }, ` (${s.meaning})`));
    input.addEventListener("input", () => on.size(s.attr, s.name, Number(input.value)));
    wrap.append(text, input);
    controls.append(wrap);
  }
  return controls;
}

// Slider positions, numbers and the class slider's range after a change.
export function syncSliders(controls, spec, shapes, params) {
  for (const input of controls.querySelectorAll("input[type=range]")) {
    const name = input.dataset.dim || input.dataset.param;
    const p = spec.params.find((q) => q.name === name);
    if (p) input.max = String(shapes[p.below] - 1);
    const v = input.dataset.dim ? shapes[name] : params[name];
    if (Number(input.value) !== v) input.value = String(v);
    input.parentElement.querySelector(".ge-number").textContent = String(v);
  }
}

function toggle(attr, value, text, onClick) {
  const button = element("button", { type: "button", class: "ge-toggle", [attr]: value, "aria-pressed": "false" }, text);
  button.addEventListener("click", onClick);
  return button;
}

function action(name, text, onClick) {
  const button = element("button", { type: "button", class: "ge-toggle ge-action", "data-action": name }, text);
  button.addEventListener("click", onClick);
  return button;
}

// The view and mode toggles; `dispatch` receives their actions. Built once per spec, then only synced
// (syncModes), so a pressed button keeps the keyboard focus.
export function buildModes(spec, inputs, dispatch) {
  const modes = element("div", { class: "ge-modes" });
  if (spec.output) {
    const group = element("div", { class: "ge-toggles", role: "group", "aria-label": "view" });
    const wrt = element("select", { "data-control": "wrt", "aria-label": "the Jacobian with respect to" });
    for (const name of inputs) wrt.append(element("option", { value: name }, `\u2202${spec.output}/\u2202${label(spec, name)}`));
    wrt.addEventListener("change", () => dispatch({ type: "wrt", wrt: wrt.value }));
    group.append(element("span", { class: "ge-toggles-title" }, "view: "),
      toggle("data-view", "normal", "gradients", () => dispatch({ type: "view", view: "normal" })),
      toggle("data-view", "jacobian", "Jacobian", () => dispatch({ type: "view", view: "jacobian" })), wrt);
    modes.append(group);
  }
  const group = element("div", { class: "ge-toggles", role: "group", "aria-label": "mode" });
  group.append(element("span", { class: "ge-toggles-title" }, "mode: "),
    toggle("data-mode", "explore", "explore", () => dispatch({ type: "mode", mode: "explore" })),
    toggle("data-mode", "predict", "predict first", () => dispatch({ type: "mode", mode: "predict" })),
    action("reveal", "Reveal", () => dispatch({ type: "reveal" })),
    action("another", "another entry", () => dispatch({ type: "another" })));
  modes.append(group);
  return modes;
}

export function syncModes(modes, state) {
  for (const b of modes.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === state.view));
  for (const b of modes.querySelectorAll("[data-mode]")) b.setAttribute("aria-pressed", String(b.dataset.mode === state.mode));
  const wrt = modes.querySelector('[data-control="wrt"]');
  if (wrt && wrt.value !== state.wrt) wrt.value = state.wrt;
  for (const b of modes.querySelectorAll("[data-action]")) b.hidden = state.mode !== "predict";
}
