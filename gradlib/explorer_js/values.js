// What an entry is computed from (the spec's patterns) and every array's values: the twins of
// gradlib.structure.sources / lights / evaluate. A term's `fn` picks its entry in FUNCTIONS.

import { allIndices, flat, get, key, parseKey, shapeOf, zeros } from "./arrays.js";

// Every way to bind a term's letters for target entry `entry`: {letter: index}, the output letters
// fixed by the entry, the summed ones running over their dims (term.output and term.summed come from
// structure.Term); through a `gate` (a one-hot matrix operand, row i hot at column i mod its width) only
// the bindings where it is 1 (gather: dE[v,d] reads the rows n of G picked from row v; the twin of
// structure's _open). `operandIndex` is operand k's entry in a binding.
export function bindings(shapes, term, entry) {
  const fixed = {};
  [...term.output].forEach((c, k) => { fixed[c] = entry[k]; });
  const summed = [...term.summed];
  const all = allIndices(summed.map((c) => shapes[term.letters[c]])).map((combo) => {
    const at = { ...fixed };
    summed.forEach((c, k) => { at[c] = combo[k]; });
    return at;
  });
  if (!term.gate) return all;
  const [row, col] = term.inputs[term.operands.indexOf(term.gate)];
  return all.filter((at) => at[col] === at[row] % shapes[term.letters[col]]);
}
export const operandIndex = (term, k, at) => [...term.inputs[k]].map((c) => at[c]);

// The (operand, index) pairs that `entry` of the relation's target reads through `term`.
export function sources(shapes, term, entry) {
  if (term.constant_if_one && shapes[term.letters[term.constant_if_one]] === 1) return [];
  return bindings(shapes, term, entry).flatMap((at) => term.operands.map((name, k) => [name, operandIndex(term, k, at)]));
}

// The lights at `shapes`: {from(k), feeds(k), all(k)}, Sets of keys. `from` is what an entry is computed
// from; `feeds` the entries that read it, found by scanning every computed entry once, when first needed.
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

export function softmax(v) {
  const max = Math.max(...v.data);
  const e = v.data.map((t) => Math.exp(t - max));
  const total = e.reduce((a, b) => a + b, 0);
  return { shape: v.shape, data: e.map((t) => t / total) };
}

export function softmaxRows(v) {  // a softmax per row of an (n, c) matrix
  const [n, c] = v.shape;
  const out = zeros(v.shape);
  for (let i = 0; i < n; i++) out.data.set(softmax({ shape: [c], data: v.data.slice(i * c, (i + 1) * c) }).data, i * c);
  return out;
}

function jacobianOf(f, entry) {  // (n, n) from a function of (f_i, f_j, i == j)
  const n = f.shape[0];
  const out = zeros([n, n]);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.data[i * n + j] = entry(f.data[i], f.data[j], i === j);
  return out;
}

// fn name -> the value of a term (the same list as structure.FUNCTIONS).
export const FUNCTIONS = {
  product: einsum,
  softmax: (term, [v]) => softmax(v),
  tanh: (term, [v]) => ({ shape: v.shape, data: v.data.map(Math.tanh) }),
  relu: (term, [v]) => ({ shape: v.shape, data: v.data.map((t) => Math.max(t, 0)) }),
  relu_mask: (term, [g, a]) => ({ shape: g.shape, data: g.data.map((t, k) => (a.data[k] > 0 ? t : 0)) }),
  softmax_rows: (term, [v]) => softmaxRows(v),
  jacobian_linear: (term, [A]) => ({ shape: A.shape, data: Float64Array.from(A.data) }),
  jacobian_tanh: (term, [f]) => jacobianOf(f, (fi, fj, same) => (same ? 1 - fi * fi : 0)),
  jacobian_softmax: (term, [f]) => jacobianOf(f, (fi, fj, same) => (same ? fi : 0) - fi * fj),
  max_share: (term, [g, X]) => maxShare(g, X),
};

// The winners of row i of X (1 where it equals the row's maximum) and how many there are.
export function winners(X, i) {
  const row = X.data.slice(i * X.shape[1], (i + 1) * X.shape[1]);
  const max = Math.max(...row);
  const hot = row.map((t) => (t === max ? 1 : 0));
  return { hot, ties: hot.reduce((a, b) => a + b, 0), max };
}

// g[i] shared equally by the entries of row i of X that equal the row's maximum (reduce_max's rule).
function maxShare(g, X) {
  const out = zeros(X.shape);
  for (let i = 0; i < X.shape[0]; i++) {
    const { hot, ties } = winners(X, i);
    hot.forEach((w, j) => { out.data[i * X.shape[1] + j] = (g.data[i] * w) / ties; });
  }
  return out;
}

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
