// The verdict on a typed answer, judged like check_gradient: the answer and the box's reference are
// evaluated on several fresh random draws of the inputs and compared entry by entry; a wrong shape or
// wrong values are a `fail` naming the likely slip (diagnose.js), anything unreadable an `error`.
import { evaluate } from "./evaluate.js";
import { diagnose, shapeHint } from "./diagnose.js";
import { ReaderError, shapeText, sizeOf } from "./ndarray.js";

export const DRAWS = 3;

// A standard normal (Box-Muller) from `random`, a function returning uniforms in [0, 1).
const normal = (random) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

// Fresh values for every name of the scope: {shape, kind: "normal" | "class" | "constant", classes, value}.
export function draw(scope, random = Math.random) {
  const values = {};
  for (const [name, entry] of Object.entries(scope)) {
    const data = new Float64Array(sizeOf(entry.shape));
    for (let k = 0; k < data.length; k++) {
      data[k] = entry.kind === "class" ? Math.floor(random() * entry.classes)
        : entry.kind === "constant" ? entry.value : normal(random);
    }
    values[name] = { shape: entry.shape, data };
  }
  return values;
}

// The checker's sentence (about "the analytic gradient" and "the numerical one") about the reader's answer.
export const inReaderWords = (sentence, question) =>
  sentence.replace(/the analytic gradient/g, "your answer").replace(/the numerical one/g, question);

const number = (v) => (Math.abs(v) < 5e-5 ? "0" : v.toPrecision(4)).replace("-", "\u2212");

// {verdict: "pass" | "fail" | "error", message} for `text` in the box {scope, question, reference, helpers}.
export function judge(text, box, random = Math.random, draws = DRAWS) {
  try {
    return judged(text, box, random, draws);
  } catch (error) {
    if (error instanceof ReaderError) return { verdict: "error", message: `${error.message}.` };
    return { verdict: "error", message: `the box could not evaluate this (${String(error && error.message).slice(0, 80)}).` };
  }
}

function judged(text, box, random, draws) {
  const { question } = box;
  evaluate(text, draw(box.scope, random), box.helpers);   // unreadable: an error before any draw is judged
  for (let d = 0; d < draws; d++) {
    const inputs = draw(box.scope, random);
    const truth = evaluate(box.reference, inputs, box.helpers);
    const answer = evaluate(text, inputs, box.helpers);
    const [have, want] = [answer.shape, truth.shape].map(shapeText);
    if (have !== want) {
      const hint = shapeHint(answer.shape, truth.shape);
      return { verdict: "fail", message: `your answer has shape ${have} but ${question} is ${want}${hint ? `: ${hint}` : "."}` };
    }
    if (!answer.data.every(Number.isFinite)) {
      return { verdict: "fail", message: "your answer has entries that are not numbers (nan or inf): a log of a negative number, or a division by zero?" };
    }
    const tolerance = 1e-8 * Math.max(1, ...Array.from(truth.data, Math.abs));
    const wrong = Array.from(answer.data, (a, k) => Math.abs(a - truth.data[k]) > tolerance);
    const count = wrong.filter(Boolean).length;
    if (!count) continue;
    const slip = diagnose(truth, answer, tolerance);
    if (slip) return { verdict: "fail", message: `the shape ${want} is right but the values are not: ${inReaderWords(slip, question)}` };
    const k = wrong.indexOf(true);
    const at = answer.shape.map((_, a) => Math.floor(k / sizeOf(answer.shape.slice(a + 1))) % answer.shape[a]);
    return { verdict: "fail", message: `the shape ${want} is right but ${count} of ${wrong.length} entries are not `
      + `(at ${at.length ? `[${at.join(", ")}]` : "the single entry"}: yours ${number(answer.data[k])}, ${question} ${number(truth.data[k])}).` };
  }
  const names = Object.keys(box.scope);
  return { verdict: "pass", message: `your answer equals ${question} on ${draws} fresh random draws of ${names.join(", ")}.` };
}
