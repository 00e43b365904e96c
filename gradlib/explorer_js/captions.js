// The captions: an entry's index formula with the numbers filled in, what an input feeds, and predict
// mode's score. Plain words: the reader is a student, not a reader of the code.

import { MINUS, entryText, flat, fmt, get, key, label, nameOf, parseKey } from "./arrays.js";
import { bindings, operandIndex, softmax, softmaxRows, winners } from "./values.js";

const factor = (v) => (fmt(v).startsWith(MINUS) ? `(${fmt(v)})` : fmt(v));

// The same term with the numbers filled in, and a remark where one helps.
function termNumbers(spec, shapes, term, entry, arrays) {
  if (term.mean_over) {
    const { text, note } = termNumbers(spec, shapes, { ...term, mean_over: "" }, entry, arrays);
    return { text: text && `${text.includes(" ") ? `(${text})` : text} / ${shapes[term.letters[term.mean_over]]}`, note };
  }
  const ops = term.operands.map((o) => arrays[o]);
  const name = (k) => label(spec, term.operands[k]);
  if (term.fn === "product") {
    const parts = bindings(shapes, term, entry).map((at) => ops.map((op, k) => factor(get(op, operandIndex(term, k, at)))).join(" \u00d7 "));
    const gate = term.gate && [...term.inputs[term.operands.indexOf(term.gate)]]
      .map((c) => (term.output.includes(c) ? entry[term.output.indexOf(c)] : c)).join(",");
    const closed = term.gate && !parts.length ? `${label(spec, term.gate)}[${gate}] = 0 for every ${term.summed}: nothing adds into it` : "";
    return { text: parts.join(" + "), note: closed };
  }
  if (term.fn === "max_share") {
    const [i, j] = entry;
    const { hot, ties, max } = winners(ops[1], i);
    const x = entryText(name(1), entry);
    const note = hot[j] ? (ties > 1 ? `${ties} entries of row ${i} tie for the maximum and share ${name(0)}[${i}]` : "")
      : `${x} = ${fmt(get(ops[1], entry))} is not the maximum of row ${i} (${fmt(max)}): it gets nothing`;
    return { text: `${factor(get(ops[0], [i]))} \u00d7 ${hot[j]} / ${ties}`, note };
  }
  if (term.fn === "softmax") {
    const one = shapes[term.letters[term.constant_if_one]] === 1;
    return { text: fmt(softmax(ops[0]).data[entry[0]]), note: one ? `with one class, softmax(${name(0)}) is always 1 and depends on nothing` : "" };
  }
  if (term.fn === "tanh") return { text: `tanh(${fmt(get(ops[0], entry))})` };
  if (term.fn === "relu") return { text: `max(0, ${fmt(get(ops[0], entry))})` };
  if (term.fn === "relu_mask") {
    const on = get(ops[1], entry) > 0;
    const a = entryText(name(1), entry);
    return { text: `${factor(get(ops[0], entry))} \u00d7 ${on ? 1 : 0}`, note: on ? "" : `${a} \u2264 0: the unit is off and passes nothing back` };
  }
  if (term.fn === "softmax_rows") {
    const one = shapes[term.letters[term.constant_if_one]] === 1;
    const note = one ? `with one class, softmax(${name(0)}[${entry[0]},:]) is always 1 and depends on nothing` : "";
    return { text: fmt(softmaxRows(ops[0]).data[flat(ops[0].shape, entry)]), note };
  }
  const [i, j] = entry;
  if (term.fn === "jacobian_linear") return { text: fmt(get(ops[0], entry)) };
  const f = ops[0];
  if (term.fn === "jacobian_tanh") {
    if (i === j) return { text: `1 ${MINUS} ${factor(f.data[i])}\u00b2` };
    return { text: "", note: `${name(0)}[${i}] = tanh(${name(1)}[${i}]) does not depend on ${name(1)}[${j}]` };
  }
  if (term.fn === "jacobian_softmax") {
    return { text: i === j ? `${fmt(f.data[i])} \u00d7 (1 ${MINUS} ${fmt(f.data[i])})` : `${MINUS}${fmt(f.data[i])} \u00d7 ${fmt(f.data[j])}` };
  }
  return { text: "" };  // a function with no numbers of its own: the caption is its formula and the value
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

// "dW[0,2], dW[1,2], dW[2,2]", or "12 entries of dW" for a long list.
export function listEntries(spec, keys) {
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

// The caption of array[index]: its formula with the numbers (a computed entry), or what it feeds.
export function caption(spec, shapes, arrays, deps, array, index) {
  const relation = spec.relations.find((r) => r.target === array);
  const fed = [...deps.feeds(key(array, index))];
  if (relation) {
    const text = computedCaption(spec, shapes, relation, index, arrays);
    return fed.length ? `${text}; it feeds ${listEntries(spec, fed)}` : text;
  }
  const head = `${entryText(label(spec, array), index)} = ${fmt(get(arrays[array], index))}`;
  if (fed.length) return `${head} feeds ${listEntries(spec, fed)}`;
  if (spec.relations.some((r) => r.terms.some((t) => t.gate === array))) {
    return `${head} feeds no entry of the gradients: it is 0, and only a 1 of ${label(spec, array)} passes anything on`;
  }
  return `${head} feeds no entry of the gradients: none of them reads ${label(spec, array)}`;
}

// --- predict mode ---------------------------------------------------------------------------------

const COUNT = ["no", "one", "two", "three", "four", "five", "six"];
const some = (list, name) => (list.length > 4 ? `${list.slice(0, 3).map(name).join(", ")} and ${list.length - 3} more`
  : list.map(name).join(", "));
const count = (n) => COUNT[n] || String(n);

// How the question about entry `question` is asked: "depend on" (a computed entry), "feed" (an input),
// "is linked to" (both, or a Jacobian entry). `name` gives an entry's text.
export function relationOf(spec, array) {
  const computed = spec.relations.some((r) => r.target === array);
  const feeds = spec.relations.some((r) => r.terms.some((t) => t.operands.includes(array)));
  if (array === "jacobian" || (computed && feeds)) return "linked";
  return computed ? "depends" : "feeds";
}

// "Which entries does dW[1,2] depend on? Click them, then Reveal." (the question of predict mode)
export function questionText(spec, question, name) {
  const [array] = parseKey(question);
  const what = { linked: `are linked to ${name(question)}`, depends: `does ${name(question)} depend on`,
    feeds: `does ${name(question)} feed` }[relationOf(spec, array)];
  return `Which entries ${what}? Click them, then Reveal. (A second click unpicks.)`;
}

// "5 of 6, one extra: dW[1,2] does not depend on x[0]"; `found` holds the keys of each verdict.
export function scoreLine(spec, question, found, name = (k) => nameOf(spec, k)) {
  const [array] = parseKey(question);
  const verb = { linked: "is not linked to", depends: "does not depend on", feeds: "does not feed" }[relationOf(spec, array)];
  const parts = [`${found.hit.length} of ${found.hit.length + found.miss.length}`];
  if (found.miss.length) parts.push(`${count(found.miss.length)} missed: ${some(found.miss, name)}`);
  if (found.extra.length) parts.push(`${count(found.extra.length)} extra: ${name(question)} ${verb} ${some(found.extra, name)}`);
  if (!found.miss.length && !found.extra.length) parts.push("all right");
  return parts.join(", ");
}
