// Chapter 9's steps through the network: previous / next, the step's text, and each array's part in the
// step (written, read, or idle: idle arrays are drawn small, without numbers, so a step fits one screen).

import { element } from "./dom.js";

export function buildStepper(spec, dispatch, current) {
  const stepper = element("div", { class: "ge-steps" });
  stepper.hidden = !spec.steps.length;
  if (!spec.steps.length) return stepper;
  const prev = element("button", { type: "button", "data-step": "prev", class: "ge-step-button" }, "\u2190 previous step");
  const next = element("button", { type: "button", "data-step": "next", class: "ge-step-button" }, "next step \u2192");
  prev.addEventListener("click", () => dispatch({ type: "step", step: current() - 1 }));
  next.addEventListener("click", () => dispatch({ type: "step", step: current() + 1 }));
  stepper.append(prev, next, element("p", { class: "ge-step", "aria-live": "polite" }));
  return stepper;
}

// Show stepView `step` (state.js): the text, the buttons, the frames and words on each panel.
export function markStep(stepper, board, step) {
  if (!step) return;
  stepper.querySelector(".ge-step").textContent = step.text;
  stepper.querySelector('[data-step="prev"]').disabled = step.first;
  stepper.querySelector('[data-step="next"]').disabled = step.last;
  stepper.dataset.current = String(step.index);
  for (const panel of board.querySelectorAll(".ge-array")) {
    const role = step.roles[panel.dataset.panel];
    panel.dataset.stepRole = role;
    panel.querySelector(".ge-step-tag").textContent = role === "idle" ? "" : ` (${role === "writes" ? "written" : "read"})`;
  }
}

// The other step button when the focused one becomes disabled (the first or last step).
export const otherStepButton = (button) => (button.dataset.step
  ? button.closest(".ge-steps").querySelector(`[data-step="${button.dataset.step === "next" ? "prev" : "next"}"]`) : null);
