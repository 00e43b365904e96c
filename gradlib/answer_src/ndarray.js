// Arrays of the answer box: {shape, data}, data a flat row-major Float64Array (numpy's float64),
// and numpy's broadcasting. Every failure is a ReaderError whose message names the operation as the
// reader typed it and the shapes, e.g. "x @ r: (4,) and (3,) do not match".

export const MAX_ENTRIES = 10000;

export class ReaderError extends Error {}   // a message for the reader: an `error` verdict

export function fail(message) { throw new ReaderError(message); }

export const shapeText = (shape) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`);
export const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

// A new array of `shape`, refused (before any memory is taken) beyond MAX_ENTRIES entries.
export function empty(shape, what) {
  const n = sizeOf(shape);
  if (!(n <= MAX_ENTRIES)) {
    fail(`${what}: an array of shape ${shapeText(shape)} has ${n} entries; a box allows at most ${MAX_ENTRIES}`);
  }
  return { shape, data: new Float64Array(n) };
}

export const scalar = (value) => ({ shape: [], data: Float64Array.of(value) });

export function fromNested(nested) {   // [[1, 2], [3, 4]] -> {shape: [2, 2], data}
  const shape = [];
  for (let v = nested; Array.isArray(v); v = v[0]) shape.push(v.length);
  return { shape, data: Float64Array.from(shape.length ? nested.flat(shape.length) : [nested]) };
}

export function toNested(array) {
  const build = (axis, offset) => {
    if (axis === array.shape.length) return array.data[offset];
    const step = sizeOf(array.shape.slice(axis + 1));
    return Array.from({ length: array.shape[axis] }, (_, i) => build(axis + 1, offset + i * step));
  };
  return build(0, 0);
}

export function stridesOf(shape) {
  const strides = new Array(shape.length);
  let step = 1;
  for (let a = shape.length - 1; a >= 0; a--) { strides[a] = step; step *= shape[a]; }
  return strides;
}

// numpy's rule: align the shapes on the right; sizes must be equal or 1.
export function broadcastShapes(shapes, what) {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = [];
  for (let k = 0; k < ndim; k++) {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - ndim + k];
      if (d === undefined || d === 1) continue;
      if (size !== 1 && d !== size) {
        fail(`${what}: shapes ${shapes.map(shapeText).join(" and ")} do not broadcast together`);
      }
      size = d;
    }
    out.push(size);
  }
  return out;
}

// The strides of `shape` read as the broadcast `target` shape (0 where an axis is stretched).
function stretched(shape, target) {
  const own = stridesOf(shape);
  return target.map((_, k) => {
    const a = shape.length - target.length + k;
    return a < 0 || shape[a] === 1 ? 0 : own[a];
  });
}

// fn(...entries) entry by entry over the broadcast shape of `arrays`.
export function elementwise(fn, arrays, what) {
  const shape = broadcastShapes(arrays.map((a) => a.shape), what);
  const out = empty(shape, what);
  const strides = arrays.map((a) => stretched(a.shape, shape));
  const counter = new Array(shape.length).fill(0);
  const offsets = new Array(arrays.length).fill(0);
  const values = new Array(arrays.length);
  for (let k = 0; k < out.data.length; k++) {
    for (let j = 0; j < arrays.length; j++) values[j] = arrays[j].data[offsets[j]];
    out.data[k] = fn(...values);
    for (let a = shape.length - 1; a >= 0; a--) {   // the next index, row-major
      counter[a]++;
      for (let j = 0; j < arrays.length; j++) offsets[j] += strides[j][a];
      if (counter[a] < shape[a]) break;
      for (let j = 0; j < arrays.length; j++) offsets[j] -= strides[j][a] * shape[a];
      counter[a] = 0;
    }
  }
  return out;
}

// Axes permuted: out axis k is input axis axes[k].
export function permute(array, axes, what) {
  const shape = axes.map((a) => array.shape[a]);
  const out = empty(shape, what);
  const own = stridesOf(array.shape);
  const view = { shape: axes.map(() => 1), data: array.data };
  const strides = axes.map((a) => own[a]);
  copyStrided(view, strides, shape, out);
  return out;
}

function copyStrided(source, strides, shape, out) {
  const counter = new Array(shape.length).fill(0);
  let offset = 0;
  for (let k = 0; k < out.data.length; k++) {
    out.data[k] = source.data[offset];
    for (let a = shape.length - 1; a >= 0; a--) {
      counter[a]++;
      offset += strides[a];
      if (counter[a] < shape[a]) break;
      offset -= strides[a] * shape[a];
      counter[a] = 0;
    }
  }
}

export function reshape(array, shape, what) {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => d < -1)) fail(`${what}: ${shapeText(shape)} is not a shape (at most one -1, no other negative size)`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const n = array.data.length;
  const full = unknown ? shape.map((d) => (d === -1 ? (known ? n / known : NaN) : d)) : shape;
  if (full.some((d) => !Number.isInteger(d)) || sizeOf(full) !== n) {
    fail(`${what}: cannot reshape an array of shape ${shapeText(array.shape)} (${n} entries) into ${shapeText(shape)}`);
  }
  return { shape: full, data: array.data };
}

// Sum (or mean) over `axes` (null: all), with numpy's keepdims.
export function reduce(array, axes, keepdims, mean, what) {
  const ndim = array.shape.length;
  const over = axes === null ? array.shape.map((_, a) => a) : axes.map((a) => normalAxis(a, ndim, what));
  if (new Set(over).size !== over.length) fail(`${what}: an axis is repeated in ${shapeText(axes)}`);
  const keep = array.shape.map((d, a) => (over.includes(a) ? 1 : d));
  const out = empty(keep, what);
  const strides = stretched(keep, array.shape);
  const counter = new Array(ndim).fill(0);
  let offset = 0;
  for (let k = 0; k < array.data.length; k++) {
    out.data[offset] += array.data[k];
    for (let a = ndim - 1; a >= 0; a--) {
      counter[a]++;
      offset += strides[a];
      if (counter[a] < array.shape[a]) break;
      offset -= strides[a] * array.shape[a];
      counter[a] = 0;
    }
  }
  if (mean) {
    const count = sizeOf(over.map((a) => array.shape[a]));
    for (let k = 0; k < out.data.length; k++) out.data[k] /= count;
  }
  return keepdims ? out : { shape: array.shape.filter((_, a) => !over.includes(a)), data: out.data };
}

export function normalAxis(axis, ndim, what) {
  if (!(axis >= -ndim && axis < ndim)) fail(`${what}: axis ${axis} is out of range for an array with ${ndim} ${ndim === 1 ? "axis" : "axes"}`);
  return axis < 0 ? axis + ndim : axis;
}

// a @ b with numpy's matmul rules: a 1-D operand is a row (left) or a column (right), then removed;
// leading (batch) axes broadcast.
export function matmul(a, b, what) {
  if (!a.shape.length || !b.shape.length) fail(`${what}: @ needs arrays, not a number (use * to scale)`);
  const A = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const B = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [n, m] = A.slice(-2), [m2, p] = B.slice(-2);
  if (m !== m2) fail(`${what}: ${shapeText(a.shape)} and ${shapeText(b.shape)} do not match`);
  const batch = broadcastShapes([A.slice(0, -2), B.slice(0, -2)], what);
  const out = empty([...batch, n, p], what);
  const sa = stretched(A.slice(0, -2), batch), sb = stretched(B.slice(0, -2), batch);
  const blocks = sizeOf(batch);
  const index = stridesOf(batch);
  for (let k = 0; k < blocks; k++) {
    let oa = 0, ob = 0;
    for (let d = 0, rest = k; d < batch.length; d++) {
      const i = Math.floor(rest / index[d]);
      rest -= i * index[d];
      oa += i * sa[d] * n * m;
      ob += i * sb[d] * m * p;
    }
    for (let i = 0; i < n; i++) {
      for (let l = 0; l < p; l++) {
        let total = 0;
        for (let j = 0; j < m; j++) total += a.data[oa + i * m + j] * b.data[ob + j * p + l];
        out.data[k * n * p + i * p + l] = total;
      }
    }
  }
  let shape = [...batch, n, p];
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  if (a.shape.length === 1) shape = [...shape.slice(0, -2), ...shape.slice(-1)];
  if (a.shape.length === 1 && b.shape.length === 1) shape = [];
  return { shape, data: out.data };
}
