// The view of gradlib.answer.Answer (an anywidget): a prompt, a text field, a Check button and the
// verdict, announced in an aria-live region. Typed text is only ever parsed (parse.js) and shown as
// textContent; it is kept in localStorage so a reload does not lose it.
import { judge } from "./judge.js";

const WORDS = { pass: "\u2713 Right:", fail: "\u2717 Not yet:", error: "\u26a0 Cannot check:" };
let boxes = 0;

export const shapeLabel = (shape) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`);

// "r (3,), x (4,), W (3, 4) — type dL/dW"
export function promptText(scope, question) {
  const names = Object.entries(scope).map(([name, e]) => (e.kind === "constant" ? `${name} = ${e.value}`
    : e.kind === "class" ? `${name} ${e.shape.length ? `${shapeLabel(e.shape)} of classes` : "(a class"} in 0..${e.classes - 1}${e.shape.length ? "" : ")"}`
      : `${name} ${shapeLabel(e.shape)}`));
  return `${names.join(", ")} \u2014 type ${question}`;
}

function element(tag, attributes = {}, text = "") {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text) el.textContent = text;
  return el;
}

function storage() {
  try { return window.localStorage; } catch (error) { return null; }
}

export function render({ model, el }) {
  const box = { scope: model.get("scope"), question: model.get("question"), reference: model.get("reference"),
    helpers: model.get("helpers") };
  const id = `gradlib-answer-${++boxes}-${Math.random().toString(36).slice(2, 8)}`;
  const shapes = Object.fromEntries(Object.entries(box.scope).map(([name, e]) => [name, e.shape]));
  const root = element("div", { class: "gradlib-answer", "data-scope": JSON.stringify(shapes), role: "group", "aria-labelledby": `${id}-prompt` });
  const prompt = element("p", { class: "ga-prompt", id: `${id}-prompt` }, promptText(box.scope, box.question));
  const row = element("div", { class: "ga-row" });
  const label = element("label", { for: `${id}-input`, class: "ga-label" }, `${box.question} =`);
  const input = element("input", { type: "text", id: `${id}-input`, "data-answer": "", autocomplete: "off", autocapitalize: "off",
    autocorrect: "off", spellcheck: "false", maxlength: "500", "aria-describedby": `${id}-prompt ${id}-help`,
    placeholder: "a numpy expression" });
  const button = element("button", { type: "button", "data-action": "check", class: "ga-check" }, "Check");
  const extra = box.helpers.length ? `, and ${box.helpers.join(", ")}` : "";
  const help = element("p", { class: "ga-help", id: `${id}-help` }, `numpy: + - * / @ **, .T, [:, None], np.outer, np.sum(…, axis=…), `
    + `.mean(), .reshape(), np.exp, np.log, np.maximum, np.where, np.ones, np.eye, np.diag${extra}. Enter checks.`);
  const verdict = element("div", { class: "ga-verdict", "data-verdict": "", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  const word = element("strong", { class: "ga-word" });
  const message = element("span", { class: "ga-message" });
  verdict.append(word, " ", message);
  row.append(label, input, button);
  root.append(prompt, row, help, verdict);
  el.appendChild(root);

  const key = `gradlib-answer:${window.location.pathname}:${model.get("key")}`;
  const store = storage();
  try { input.value = (store && store.getItem(key)) || ""; } catch (error) { /* storage refused: start empty */ }
  const keep = () => { try { if (store) store.setItem(key, input.value); } catch (error) { /* full or refused */ } };

  function check() {
    keep();
    const result = judge(input.value, box);
    verdict.dataset.verdict = result.verdict;
    word.textContent = WORDS[result.verdict];
    message.textContent = result.message;
  }
  button.addEventListener("click", check);
  input.addEventListener("input", keep);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); check(); }
  });
  return () => { button.removeEventListener("click", check); };
}
