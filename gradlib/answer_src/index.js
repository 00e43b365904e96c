// Indexing of the answer box: integers, slices, None, and one integer array (numpy's rules).
import { empty, fail, normalAxis, shapeText, stridesOf } from "./ndarray.js";

// Python's slice.indices: the positions a slice picks along an axis of `length`.
export function slicePositions({ start, stop, step }, length, what) {
  step = step === null ? 1 : step;
  if (step === 0) fail(`${what}: a slice step cannot be zero`);
  const clamp = (v, low, high) => Math.min(Math.max(v, low), high);
  const at = (v, otherwise) => {
    if (v === null) return otherwise;
    return step > 0 ? clamp(v < 0 ? v + length : v, 0, length) : clamp(v < 0 ? v + length : v, -1, length - 1);
  };
  const first = at(start, step > 0 ? 0 : length - 1), last = at(stop, step > 0 ? length : -1);
  const out = [];
  for (let i = first; step > 0 ? i < last : i > last; i += step) out.push(i);
  return out;
}

// items: {kind: "int", value} | {kind: "slice", start, stop, step} | {kind: "none"} | {kind: "array", value}
export function getItem(array, items, what) {
  const used = items.filter((it) => it.kind !== "none").length;
  if (used > array.shape.length) {
    fail(`${what}: too many indices (${used}) for an array of shape ${shapeText(array.shape)}`);
  }
  if (items.filter((it) => it.kind === "array").length > 1) {
    fail(`${what}: indexing with more than one array is not supported here`);
  }
  const full = [...items, ...array.shape.slice(used).map(() => ({ kind: "slice", start: null, stop: null, step: null }))];
  // each output axis: the input positions it runs over (and the input axis), or a new axis of 1
  const dims = [];
  let fixed = 0, axis = 0, arrayShape = null, arrayDim = -1;
  const strides = stridesOf(array.shape);
  for (const item of full) {
    if (item.kind === "none") { dims.push({ positions: [0], stride: 0 }); continue; }
    const length = array.shape[axis];
    const position = (i) => {
      if (!Number.isInteger(i)) fail(`${what}: an index must be an integer, not ${i}`);
      if (i < -length || i >= length) fail(`${what}: index ${i} is out of range for axis ${axis} of size ${length}`);
      return i < 0 ? i + length : i;
    };
    if (item.kind === "int") fixed += position(item.value) * strides[axis];
    else if (item.kind === "slice") dims.push({ positions: slicePositions(item, length, what), stride: strides[axis] });
    else {
      arrayShape = item.value.shape;
      arrayDim = dims.length;
      dims.push({ positions: Array.from(item.value.data, position), stride: strides[axis] });
    }
    axis++;
  }
  const flatShape = dims.map((d) => d.positions.length);
  const out = empty(arrayShape ? [...flatShape.slice(0, arrayDim), ...arrayShape, ...flatShape.slice(arrayDim + 1)] : flatShape, what);
  const counter = new Array(dims.length).fill(0);
  for (let k = 0; k < out.data.length; k++) {
    let offset = fixed;
    for (let d = 0; d < dims.length; d++) offset += dims[d].positions[counter[d]] * dims[d].stride;
    out.data[k] = array.data[offset];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++counter[d] < flatShape[d]) break;
      counter[d] = 0;
    }
  }
  return out;
}

export function outer(a, b, what) {
  const out = empty([a.data.length, b.data.length], what);
  let k = 0;
  for (const u of a.data) for (const v of b.data) out.data[k++] = u * v;
  return out;
}

export function diag(a, what) {
  if (a.shape.length === 1) {
    const n = a.shape[0];
    const out = empty([n, n], what);
    for (let i = 0; i < n; i++) out.data[i * n + i] = a.data[i];
    return out;
  }
  if (a.shape.length === 2) {
    const [n, m] = a.shape;
    const out = empty([Math.min(n, m)], what);
    for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i * m + i];
    return out;
  }
  return fail(`${what}: np.diag takes a 1-D or 2-D array, not shape ${shapeText(a.shape)}`);
}

export function eye(n, m, what) {
  const out = empty([n, m], what);
  for (let i = 0; i < Math.min(n, m); i++) out.data[i * m + i] = 1;
  return out;
}

export function filled(shape, value, what) {
  const out = empty(shape, what);
  out.data.fill(value);
  return out;
}

// softmax along the last axis, the largest entry subtracted first (no overflow).
export function softmax(a, what) {
  if (!a.shape.length) fail(`${what}: softmax takes an array of logits, not a number`);
  const C = a.shape[a.shape.length - 1];
  const out = empty(a.shape, what);
  for (let row = 0; row < a.data.length; row += C) {
    let top = -Infinity, total = 0;
    for (let c = 0; c < C; c++) top = Math.max(top, a.data[row + c]);
    for (let c = 0; c < C; c++) total += out.data[row + c] = Math.exp(a.data[row + c] - top);
    for (let c = 0; c < C; c++) out.data[row + c] /= total;
  }
  return out;
}

export function onehot(t, C, what) {
  const out = empty([...t.shape, C], what);
  t.data.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 0 || c >= C) fail(`${what}: a class must be an integer in 0..${C - 1}, not ${c}`);
    out.data[k * C + c] = 1;
  });
  return out;
}

export function transposeAxes(ndim, axes, what) {
  if (axes === null) return Array.from({ length: ndim }, (_, k) => ndim - 1 - k);
  const normal = axes.map((a) => normalAxis(a, ndim, what));
  if (normal.length !== ndim || new Set(normal).size !== ndim) fail(`${what}: axes ${shapeText(axes)} are not a permutation of ${ndim} axes`);
  return normal;
}

