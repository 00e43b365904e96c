// The answer box's own parser: a tokenizer and a recursive-descent parser for the numpy subset a
// reader types (Python's precedence). Nothing typed is ever run as JavaScript: the tree this
// returns is walked by evaluate.js.
//
//   comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
//   sum        := product (("+" | "-") product)*
//   product    := unary (("*" | "/" | "@") unary)*
//   unary      := ("-" | "+") unary | power
//   power      := postfix ["**" unary]
//   postfix    := atom ("." name | "(" arguments ")" | "[" subscripts "]")*
//   atom       := number | name | None | True | False | "(" [expression ("," expression)* [","]] ")"
// A node is {type, start, end, ...}; start/end locate its text, so messages quote what was typed.
import { fail } from "./ndarray.js";

export const MAX_LENGTH = 500;
export const MAX_DEPTH = 50;

const SYMBOLS = ["**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "@", "(", ")", "[", "]", ",", ":", ".", "=", "<", ">"];
const LOOKALIKES = { "\u2212": "-", "\u00d7": "*", "\u00b7": "@" };  // − × · pasted from the book's text

export function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) { i += space[0].length; continue; }
    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (number && !Number.isFinite(Number(number[0]))) fail(`the number at position ${i + 1} is too large`);
    if (number) tokens.push({ kind: "number", text: number[0], value: Number(number[0]), start: i });
    else if (name) tokens.push({ kind: "name", text: name[0], start: i });
    else {
      const symbol = SYMBOLS.find((s) => rest.startsWith(s)) || LOOKALIKES[rest[0]];
      if (!symbol) {
        const shown = /^[\x21-\x7e]$/.test(rest[0]) ? `'${rest[0]}'` : `U+${rest.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
        fail(`cannot read the character ${shown} at position ${i + 1}`);
      }
      tokens.push({ kind: "symbol", text: symbol, start: i, length: LOOKALIKES[rest[0]] ? 1 : symbol.length });
      i += LOOKALIKES[rest[0]] ? 1 : symbol.length;
      continue;
    }
    i += tokens[tokens.length - 1].text.length;
  }
  tokens.forEach((t) => { t.end = t.start + (t.length || t.text.length); });
  tokens.push({ kind: "end", text: "", start: text.length, end: text.length });
  return tokens;
}

export function parse(text) {
  if (text.length > MAX_LENGTH) fail(`the answer is ${text.length} characters long; a box reads at most ${MAX_LENGTH}`);
  if (!text.trim()) fail("type an expression first");
  const tokens = tokenize(text);
  let at = 0, depth = 0;
  const peek = () => tokens[at];
  const is = (t) => peek().kind === "symbol" && peek().text === t;
  const take = () => tokens[at++];
  const where = (token) => (token.kind === "end" ? "at the end" : `'${token.text}' at position ${token.start + 1}`);
  const expect = (t) => {
    if (!is(t)) fail(peek().kind === "end" ? `the answer ends too early: a '${t}' is missing at the end` : `expected '${t}' but found ${where(peek())}`);
    return take();
  };
  const deeper = () => { if (++depth > MAX_DEPTH) fail(`the answer is nested more than ${MAX_DEPTH} levels deep`); };
  const node = (type, start, fields) => ({ type, start, end: tokens[at - 1].end, ...fields });

  function comparison() {
    const left = sum();
    for (const op of ["<=", ">=", "==", "!=", "<", ">"]) {
      if (is(op)) {
        take();
        const right = sum();
        if (["<=", ">=", "==", "!=", "<", ">"].some(is)) fail("chained comparisons are not supported; use one comparison");
        return node("binary", left.start, { op, left, right });
      }
    }
    return left;
  }
  function binaryLevel(ops, next) {
    return () => {
      let left = next();
      while (ops.some(is)) {
        const op = take().text;
        const right = next();
        left = node("binary", left.start, { op, left, right });
      }
      return left;
    };
  }
  const product = binaryLevel(["*", "/", "@"], unary);
  const sum = binaryLevel(["+", "-"], product);

  function unary() {
    if (is("-") || is("+")) {
      deeper();
      const start = take();
      const operand = unary();
      depth--;
      return node("unary", start.start, { op: start.text, operand });
    }
    return power();
  }
  function power() {
    const base = postfix();
    if (!is("**")) return base;
    take();
    deeper();
    const exponent = unary();
    depth--;
    return node("binary", base.start, { op: "**", left: base, right: exponent });
  }
  function postfix() {
    let value = atom();
    for (;;) {
      if (is(".")) {
        take();
        const name = take();
        if (name.kind !== "name") fail(`expected a name after '.' but found ${where(name)}`);
        value = node("attribute", value.start, { object: value, name: name.text });
      } else if (is("(")) {
        deeper();
        take();
        const { args, kwargs } = argumentList();
        expect(")");
        depth--;
        value = node("call", value.start, { func: value, args, kwargs });
      } else if (is("[")) {
        deeper();
        take();
        const items = subscripts();
        expect("]");
        depth--;
        value = node("index", value.start, { object: value, items });
      } else return value;
    }
  }
  function argumentList() {
    const args = [], kwargs = [];
    while (!is(")")) {
      if (peek().kind === "name" && tokens[at + 1].text === "=" && tokens[at + 1].kind === "symbol") {
        const name = take().text;
        take();
        if (kwargs.some(([n]) => n === name)) fail(`the keyword ${name}= is given twice`);
        kwargs.push([name, comparison()]);
      } else {
        if (kwargs.length) fail(`a positional argument cannot follow a keyword argument (at position ${peek().start + 1})`);
        args.push(comparison());
      }
      if (!is(",")) break;
      take();
    }
    return { args, kwargs };
  }
  function subscripts() {
    const items = [];
    do {
      if (is(",")) take();
      if (is("]")) break;
      items.push(subscript());
    } while (is(","));
    if (!items.length) fail(`an index is missing inside [] at position ${peek().start + 1}`);
    return items;
  }
  function subscript() {
    const start = peek().start;
    const part = () => (is(":") || is("]") || is(",") ? null : comparison());
    const lower = part();
    if (!is(":")) return lower;
    take();
    const upper = part();
    let step = null;
    if (is(":")) { take(); step = part(); }
    return node("slice", start, { lower, upper, step });
  }
  function atom() {
    const token = take();
    if (token.kind === "number") return node("number", token.start, { value: token.value });
    if (token.kind === "name") {
      if (["None", "True", "False"].includes(token.text)) return node("constant", token.start, { value: token.text });
      return node("name", token.start, { id: token.text });
    }
    if (token.kind === "symbol" && token.text === "(") {
      deeper();
      const items = [];
      let tuple = false;
      while (!is(")")) {
        items.push(comparison());
        if (!is(",")) break;
        take();
        tuple = true;
      }
      expect(")");
      depth--;
      if (items.length === 1 && !tuple) return { ...items[0], start: token.start, end: tokens[at - 1].end };
      return node("tuple", token.start, { items });
    }
    return fail(token.kind === "end" ? "the answer ends too early: something is missing at the end" : `unexpected ${where(token)}`);
  }

  const tree = comparison();
  if (peek().kind !== "end") fail(`unexpected ${where(peek())}: the expression ended before it`);
  return tree;
}
