// Arrays as {shape, data} (data a flat row-major Float64Array), entry keys ("dW|1,2") and names.

export const MINUS = "\u2212";

export function allIndices(shape) {
  let out = [[]];
  for (const size of shape) {
    const next = [];
    for (const prefix of out) for (let i = 0; i < size; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}

export function flat(shape, index) {
  let k = 0;
  for (let a = 0; a < shape.length; a++) k = k * shape[a] + index[a];
  return k;
}

export function unflat(shape, k) {
  const index = [];
  for (let a = shape.length - 1; a >= 0; a--) { index.unshift(k % shape[a]); k = Math.floor(k / shape[a]); }
  return index;
}

export const size = (shape) => shape.reduce((a, b) => a * b, 1);
export const get = (array, index) => array.data[flat(array.shape, index)];
export const zeros = (shape) => ({ shape, data: new Float64Array(size(shape)) });
export const key = (name, index) => `${name}|${index.join(",")}`;
export const parseKey = (k) => { const [name, idx] = k.split("|"); return [name, idx.split(",").map(Number)]; };

export function arrayOf(spec, name) { return spec.arrays.find((a) => a.name === name); }
export function shapeOf(spec, name, shapes) { return arrayOf(spec, name).dims.map((d) => shapes[d]); }
export const label = (spec, name) => (arrayOf(spec, name) || {}).label || name;
export const entryText = (text, index) => `${text}[${index.join(",")}]`;
/** "dW[1,2]" for key "dW|1,2" (with the array's label: "dθ[1]"). */
export const nameOf = (spec, k) => { const [name, index] = parseKey(k); return entryText(label(spec, name), index); };

export function fmt(v) {  // two decimals, a real minus sign, never "−0.00"
  const text = (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
  return text.replace("-", MINUS);
}
