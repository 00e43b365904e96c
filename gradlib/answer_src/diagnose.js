// The slip behind a wrong answer, named in the words of gradlib/diagnosis.py (CheckResult.diagnosis):
// a line-for-line port of diagnose() and of its round factors, so the page and the checker agree
// (tests/lib/test_answer.py compares the two on the same arrays). N: the true gradient, A: the answer.
import { shapeText } from "./ndarray.js";

const LARGEST_ROUND_FACTOR = 10 ** 6;
const entryText = (index) => `(${index.join(", ")}${index.length === 1 ? "," : ""})`;
const g6 = (c) => {   // Python's f"{c:.6g}"
  const fixed = Number(c.toPrecision(6));
  const exp = Math.floor(Math.log10(Math.abs(fixed)));
  if (fixed === 0 || (exp >= -4 && exp < 6)) return String(fixed);
  const [mantissa, power] = fixed.toExponential().split("e");
  return `${mantissa}e${power[0]}${power.slice(1).padStart(2, "0")}`;
};
const pyRound = (v) => {   // Python's round(): halves to even
  const floor = Math.floor(v), diff = v - floor;
  return diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
};

function roundFactor(c, fits) {
  const size = Math.abs(c);
  const k = size >= 1 ? pyRound(size) : size > 0 ? pyRound(1 / size) : 0;
  if (!(k >= 1 && k <= LARGEST_ROUND_FACTOR)) return null;
  const value = (size >= 1 ? k : 1 / k) * Math.sign(c);
  if (!fits(value)) return null;
  return `${c < 0 ? "-" : ""}${size >= 1 || k === 1 ? k : `1/${k}`}`;
}

function scaled(c, fits) {
  const name = roundFactor(c, fits);
  if (name === "-1") {
    return ("sign flipped: the analytic gradient is minus the numerical one (a minus sign lost or "
      + "one too many, e.g. e_t - p where p - e_t belongs?)");
  }
  if (name === null) {
    return (`scaled by ${g6(c)}: the analytic gradient is ${g6(c)} times the numerical one everywhere `
      + "(a constant factor wrong or missing?)");
  }
  const sign = c < 0 ? " and the sign flipped" : "";
  const k = name.replace(/^-/, "");
  if (k.startsWith("1/")) {
    return (`scaled by ${name}: the analytic gradient is the numerical one divided by ${k.slice(2)}${sign} `
      + "(a mean where a sum belongs, or a missing 1/N?)");
  }
  if (k === "2") {
    return (`scaled by ${name}: the analytic gradient is 2 times the numerical one${sign} `
      + "(a factor 2 counted twice, or a missing 1/2?)");
  }
  return (`scaled by ${name}: the analytic gradient is ${k} times the numerical one${sign} `
    + "(a sum where a mean belongs, or a missing 1/N?)");
}

function unravel(k, shape) {
  const index = [];
  for (let a = shape.length - 1; a >= 0; a--) { index.unshift(k % shape[a]); k = Math.floor(k / shape[a]); }
  return index;
}

function localized(wrong, shape) {
  const where = [];
  wrong.forEach((w, k) => { if (w) where.push(unravel(k, shape)); });
  if (where.length === 1) {
    return (`right except entry ${entryText(where[0])}: only there is the analytic `
      + "gradient off (a term missing at one entry, such as the -1 of the true class, or x on a kink?)");
  }
  if (shape.length !== 2) return null;
  const rows = [...new Set(where.map((i) => i[0]))], columns = [...new Set(where.map((i) => i[1]))];
  if (rows.length === 1 && shape[0] > 1) {
    return (`right except row [${rows[0]}, :] (${where.length} of its ${shape[1]} entries wrong): `
      + "one row of the analytic gradient is off (one example, class or unit handled apart?)");
  }
  if (columns.length === 1 && shape[1] > 1) {
    return (`right except column [:, ${columns[0]}] (${where.length} of its ${shape[0]} entries `
      + "wrong): one column of the analytic gradient is off (one feature or input handled apart?)");
  }
  return null;
}

const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const vdot = (u, v) => u.reduce((total, x, k) => total + x * v[k], 0);

// One sentence naming the slip if `analytic` fits a hypothesis (as diagnosis.diagnose), else null.
// Everything is divided by the largest entry first, as there, so any scale gives the same sentence.
export function diagnose(numerical, analytic, tolerance) {
  const shape = numerical.shape;
  const scale = Math.max(maxAbs(numerical.data), maxAbs(analytic.data));
  if (!(scale > 0 && scale < Infinity)) return null;
  const N = numerical.data.map((v) => v / scale), A = analytic.data.map((v) => v / scale), tol = tolerance / scale;
  const wrong = Array.from(A, (a, k) => !(Math.abs(a - N[k]) <= tol));
  const count = (flags) => flags.filter(Boolean).length;
  if (!wrong.some(Boolean) || N.length < 2 || count(Array.from(N, (v) => Math.abs(v) > tol)) < 2) return null;
  const fits = (P, factor = 1) => maxAbs(Array.from(A, (a, k) => a - P[k])) <= tol * Math.max(1, factor);
  if (maxAbs(A) <= tol) {
    return "zero: the analytic gradient is zero but the numerical one is not (never filled in, or overwritten?)";
  }
  if (count(wrong) === 1) return localized(wrong, shape);  // one entry off, however large: not a scale
  if (A.every((a, k) => !wrong[k] || Math.abs(a) <= tol)) {
    return (`terms left out: the analytic gradient is zero at ${count(wrong)} entries where the `
      + "numerical one is not, and right elsewhere (off-diagonal terms dropped, e.g. a coupled map "
      + "treated as elementwise?)");
  }
  const nd = shape.length;
  if (nd >= 2 && shape[nd - 1] === shape[nd - 2]) {
    const n = shape[nd - 1];
    const swapped = Array.from(N, (_, k) => {
      const block = k - (k % (n * n)), i = Math.floor((k % (n * n)) / n), j = k % n;
      return N[block + j * n + i];
    });
    if (fits(swapped)) {
      return ("transposed: the analytic gradient is the transpose of the numerical one "
        + "(a product in the wrong order, e.g. x r where the rule is r^T x^T?)");
    }
  }
  const c = vdot(N, A) / vdot(N, N);
  if (fits(N.map((v) => c * v), Math.abs(c))) return scaled(c, (value) => fits(N.map((v) => value * v), Math.abs(value)));
  const shift = A.reduce((total, a, k) => total + a - N[k], 0) / A.length;
  if (fits(N.map((v) => v + shift))) {
    return (`shifted by ${g6(shift * scale)}: the analytic gradient is the numerical one plus ${g6(shift * scale)} `
      + "at every entry (a constant term lost, such as the +1 of d(x log x)/dx = log x + 1?)");
  }
  return localized(wrong, shape);
}

// The likely slip when the answer's shape is not the gradient's, or "".
export function shapeHint(answer, truth) {
  const same = (a, b) => a.length === b.length && a.every((d, k) => d === b[k]);
  if (truth.length >= 2 && same(answer, [...truth].reverse())) return "transposed? (a product in the wrong order?)";
  if (answer.length === truth.length + 1 && same(answer.slice(1), truth)) {
    return `the sum over the batch is missing? (.sum(axis=0) of your answer has the shape ${shapeText(truth)})`;
  }
  if (answer.length === truth.length) {
    const differ = answer.map((d, a) => a).filter((a) => answer[a] !== truth[a]);
    if (differ.length === 1 && truth[differ[0]] === 1) {
      return `the sum over the batch is missing? (.sum(axis=${differ[0]}, keepdims=True) has the shape ${shapeText(truth)})`;
    }
  }
  const flat = (s) => s.filter((d) => d !== 1);
  if (!same(answer, truth) && same(flat(answer), flat(truth))) {
    return `a row or column where ${truth.length === 1 ? "a flat (1-D) array" : "another layout"} belongs? (.reshape(${truth.join(", ")}))`;
  }
  return "";
}
