// Walks the tree of parse.js over float64 arrays: names from the box's scope, `np` with the
// functions below, the chapter's helpers (softmax, onehot) where a box offers them. What the walk
// can reach is exactly these tables (Maps, so no name reaches a JavaScript prototype).
import * as nd from "./ndarray.js";
import * as ix from "./index.js";
import { parse } from "./parse.js";

const { fail, shapeText } = nd;
const NONE = { kind: "none" };
const isArray = (v) => v && v.data instanceof Float64Array;

const describe = (v) => (isArray(v) ? `an array of shape ${shapeText(v.shape)}` : v.kind === "tuple" ? "a tuple"
  : v.kind === "none" ? "None" : v.kind === "module" ? "the module np" : `the function ${v.name}`);

function asArray(v, what) {
  if (isArray(v)) return v;
  if (v.kind === "tuple" && v.items.every((i) => isArray(i) && !i.shape.length)) return { shape: [v.items.length], data: Float64Array.from(v.items, (i) => i.data[0]) };
  return fail(`${what}: expected an array but got ${describe(v)}`);
}
function asInt(v, what, role) {
  if (!isArray(v) || v.shape.length || !Number.isInteger(v.data[0])) fail(`${what}: ${role} must be an integer, not ${isArray(v) && !v.shape.length ? v.data[0] : describe(v)}`);
  return v.data[0];
}
function asInts(v, what, role) {   // an integer or a tuple of them
  return v.kind === "tuple" ? v.items.map((i) => asInt(i, what, role)) : [asInt(v, what, role)];
}
function asShape(v, what) {
  const shape = asInts(v, what, "a shape");
  if (shape.some((d) => d < 0)) fail(`${what}: a shape cannot have a negative size`);
  nd.empty(shape.length ? [nd.sizeOf(shape)] : [], what);  // refused here if too large
  return shape;
}
const asAxes = (v, what) => (v.kind === "none" ? null : asInts(v, what, "an axis"));
const asBool = (v, what) => Boolean(asArray(v, what).data[0]);

// bind(args, kwargs) as Python would for `def f(<names>)`, defaults for the trailing ones.
function binder(name, names, defaults = {}) {
  return (args, kwargs, what) => {
    if (args.length > names.length) fail(`${what}: ${name} takes at most ${names.length} arguments (${names.join(", ")}), got ${args.length}`);
    const bound = {};
    names.forEach((n, k) => { if (k < args.length) bound[n] = args[k]; });
    for (const [key, value] of kwargs) {
      if (!names.includes(key)) fail(`${what}: ${name} has no argument ${key}= (it takes ${names.join(", ")})`);
      if (key in bound) fail(`${what}: ${name} got ${key} twice`);
      bound[key] = value;
    }
    for (const n of names) {
      if (!(n in bound)) {
        if (!(n in defaults)) fail(`${what}: ${name} needs its argument ${n}`);
        bound[n] = defaults[n];
      }
    }
    return bound;
  };
}
const FALSE = nd.scalar(0);
const func = (name, names, defaults, body) => {
  const bind = binder(name, names, defaults);
  return { kind: "function", name, call: (args, kwargs, what) => body(bind(args, kwargs, what), what) };
};
const unaryMap = (name, fn) => func(name, ["x"], {}, ({ x }, what) => nd.elementwise(fn, [asArray(x, what)], what));
const reducer = (name, mean, self) => func(name, self ? ["axis", "keepdims"] : ["a", "axis", "keepdims"], { axis: NONE, keepdims: FALSE },
  ({ a, axis, keepdims }, what) => nd.reduce(asArray(self || a, what), asAxes(axis, what), asBool(keepdims, what), mean, what));
const dot = (a, b, what) => {
  if (!a.shape.length || !b.shape.length) return nd.elementwise((u, v) => u * v, [a, b], what);
  if (a.shape.length > 2 || b.shape.length > 2) fail(`${what}: np.dot of arrays with more than 2 axes is not supported here; use @`);
  return nd.matmul(a, b, what);
};

const NUMPY = new Map([
  ["outer", func("np.outer", ["a", "b"], {}, ({ a, b }, what) => ix.outer(asArray(a, what), asArray(b, what), what))],
  ["dot", func("np.dot", ["a", "b"], {}, ({ a, b }, what) => dot(asArray(a, what), asArray(b, what), what))],
  ["matmul", func("np.matmul", ["a", "b"], {}, ({ a, b }, what) => nd.matmul(asArray(a, what), asArray(b, what), what))],
  ["sum", reducer("np.sum", false)],
  ["mean", reducer("np.mean", true)],
  ["reshape", func("np.reshape", ["a", "newshape"], {}, ({ a, newshape }, what) => nd.reshape(asArray(a, what), asInts(newshape, what, "a size"), what))],
  ["exp", unaryMap("np.exp", Math.exp)],
  ["log", unaryMap("np.log", Math.log)],
  ["maximum", func("np.maximum", ["x1", "x2"], {}, ({ x1, x2 }, what) => nd.elementwise((u, v) => (u !== u || v !== v ? NaN : Math.max(u, v)), [asArray(x1, what), asArray(x2, what)], what))],
  ["where", func("np.where", ["condition", "x", "y"], {}, ({ condition, x, y }, what) => nd.elementwise((c, u, v) => (c ? u : v), [asArray(condition, what), asArray(x, what), asArray(y, what)], what))],
  ["ones", func("np.ones", ["shape"], {}, ({ shape }, what) => ix.filled(asShape(shape, what), 1, what))],
  ["zeros", func("np.zeros", ["shape"], {}, ({ shape }, what) => ix.filled(asShape(shape, what), 0, what))],
  ["eye", func("np.eye", ["N", "M"], { M: NONE }, ({ N, M }, what) => {
    const n = asShape(N, what)[0];
    return ix.eye(n, M.kind === "none" ? n : asShape(M, what)[0], what);
  })],
  ["diag", func("np.diag", ["v"], {}, ({ v }, what) => ix.diag(asArray(v, what), what))],
  ["transpose", func("np.transpose", ["a", "axes"], { axes: NONE }, ({ a, axes }, what) => {
    const array = asArray(a, what);
    return nd.permute(array, ix.transposeAxes(array.shape.length, asAxes(axes, what), what), what);
  })],
  ["newaxis", NONE],
]);
export const NUMPY_NAMES = [...NUMPY.keys()];

const HELPERS = new Map([
  ["softmax", func("softmax", ["x"], {}, ({ x }, what) => ix.softmax(asArray(x, what), what))],
  ["onehot", func("onehot", ["t", "C"], {}, ({ t, C }, what) => ix.onehot(asArray(t, what), asShape(C, what)[0], what))],
]);
export const HELPER_NAMES = [...HELPERS.keys()];

function attribute(object, name, what) {
  if (object.kind === "module") {
    if (NUMPY.has(name)) return NUMPY.get(name);
    fail(`np.${name} is not supported here; the box knows np.${NUMPY_NAMES.filter((n) => n !== "newaxis").join(", np.")}`);
  }
  if (isArray(object)) {
    const a = object;
    switch (name) {
      case "T": return nd.permute(a, ix.transposeAxes(a.shape.length, null, what), what);
      case "shape": return { kind: "tuple", items: a.shape.map(nd.scalar) };
      case "sum": return reducer(".sum", false, a);
      case "mean": return reducer(".mean", true, a);
      case "reshape": return { kind: "function", name: ".reshape", call: (args, kwargs, w) => {
        if (kwargs.length || !args.length) fail(`${w}: .reshape takes the new shape, e.g. .reshape(3, 4) or .reshape((3, 4))`);
        return nd.reshape(a, args.length === 1 ? asInts(args[0], w, "a size") : args.map((v) => asInt(v, w, "a size")), w);
      } };
      case "transpose": return { kind: "function", name: ".transpose", call: (args, kwargs, w) => {
        if (kwargs.length) fail(`${w}: .transpose takes only the axes`);
        const axes = !args.length ? null : args.length === 1 ? asAxes(args[0], w) : args.map((v) => asInt(v, w, "an axis"));
        return nd.permute(a, ix.transposeAxes(a.shape.length, axes, w), w);
      } };
      default: break;
    }
  }
  return fail(`${what}: .${name} is not supported here; arrays have .T, .shape, .sum(), .mean(), .reshape() and .transpose()`);
}

const OPERATORS = {
  "+": (u, v) => u + v, "-": (u, v) => u - v, "*": (u, v) => u * v, "/": (u, v) => u / v, "**": (u, v) => u ** v,
  "<": (u, v) => +(u < v), "<=": (u, v) => +(u <= v), ">": (u, v) => +(u > v), ">=": (u, v) => +(u >= v),
  "==": (u, v) => +(u === v), "!=": (u, v) => +(u !== v),
};

// The value of `text` with `scope` ({name: array}) and the helpers named in `helpers`.
export function evaluate(text, scope, helpers = []) {
  const tree = parse(text);
  const names = new Map(Object.entries(scope));
  names.set("np", { kind: "module", name: "np" });
  for (const h of helpers) if (HELPERS.has(h)) names.set(h, HELPERS.get(h));
  const quote = (node) => {
    const s = text.slice(node.start, node.end);
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  };
  function walk(node) {
    const what = quote(node);
    switch (node.type) {
      case "number": return nd.scalar(node.value);
      case "constant": return node.value === "None" ? NONE : nd.scalar(node.value === "True" ? 1 : 0);
      case "name": {
        if (names.has(node.id)) return names.get(node.id);
        const shown = node.id.length > 30 ? `${node.id.slice(0, 30)}…` : node.id;
        return fail(`unknown name '${shown}'; the names here are ${[...names.keys()].join(", ")}`);
      }
      case "tuple": return { kind: "tuple", items: node.items.map(walk) };
      case "unary": {
        const v = asArray(walk(node.operand), what);
        return node.op === "-" ? nd.elementwise((u) => -u, [v], what) : v;
      }
      case "binary": {
        const left = asArray(walk(node.left), what), right = asArray(walk(node.right), what);
        if (node.op === "@") return nd.matmul(left, right, what);
        return nd.elementwise(OPERATORS[node.op], [left, right], what);
      }
      case "attribute": return attribute(walk(node.object), node.name, what);
      case "call": {
        const f = walk(node.func);
        if (f.kind !== "function") fail(`${what}: ${quote(node.func)} is ${describe(f)}, not a function`);
        return f.call(node.args.map(walk), node.kwargs.map(([k, v]) => [k, walk(v)]), what);
      }
      case "index": return index(walk(node.object), node.items, what);
      case "slice": return fail(`${what}: a slice (:) belongs inside [ ]`);
      default: return fail(`${what}: cannot evaluate this`);
    }
  }
  function index(object, items, what) {
    if (object.kind === "tuple") {
      if (items.length !== 1 || items[0].type === "slice") fail(`${what}: a tuple takes one integer index`);
      const k = asInt(walk(items[0]), what, "an index");
      if (k < -object.items.length || k >= object.items.length) fail(`${what}: index ${k} is out of range for a tuple of ${object.items.length}`);
      return object.items[k < 0 ? k + object.items.length : k];
    }
    if (!isArray(object)) fail(`${what}: ${describe(object)} cannot be indexed`);
    const bound = (n) => (n === null ? null : asInt(walk(n), what, "a slice bound"));
    return ix.getItem(object, items.map((item) => {
      if (item.type === "slice") return { kind: "slice", start: bound(item.lower), stop: bound(item.upper), step: bound(item.step) };
      const v = walk(item);
      if (v.kind === "none") return { kind: "none" };
      const a = asArray(v, what);
      if (!a.shape.length) return { kind: "int", value: asInt(a, what, "an index") };
      return { kind: "array", value: a };
    }), what);
  }
  const value = walk(tree);
  if (!isArray(value)) fail(`the answer is ${describe(value)}, not an array`);
  return value;
}
