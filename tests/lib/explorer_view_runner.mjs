// Runs the explorer's view state (the bundle gradlib/explorer.js, loaded as a module) on the cases
// tests/lib/explorer_view_node.py sends on stdin as {job, bundle, cases} (for tests/lib/test_explorer_view*.py);
// writes one JSON answer per case.
// Each job drives state.reduce with the actions a reader's clicks make and reports state.derive's answer.
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const js = await import(`data:text/javascript;base64,${Buffer.from(readFileSync(input.bundle, "utf8")).toString("base64")}`);
const sorted = (set) => [...set].sort();
const contextOf = (c) => js.context(c.spec, c.shapes, c.params || {}, c.values, {});

const JOBS = {
  // values, lights, formulas and captions of every entry (the twins of structure.evaluate / lights / formula)
  twins(c) {
    const ctx = contextOf(c);
    const result = { values: {}, lights: {}, formulas: {}, captions: {} };
    for (const [name, a] of Object.entries(ctx.arrays)) result.values[name] = Array.from(a.data);
    for (const array of c.spec.arrays) {
      for (const index of js.allIndices(js.shapeOf(c.spec, array.name, c.shapes))) {
        const k = js.key(array.name, index);
        result.lights[k] = js.lights(c.spec, c.shapes, array.name, index);
        result.captions[k] = js.caption(c.spec, c.shapes, ctx.arrays, ctx.deps, array.name, index);
        const relation = c.spec.relations.find((r) => r.target === array.name);
        if (relation) result.formulas[k] = js.formulaOf(c.spec, relation, index);
      }
    }
    return result;
  },
  // the Jacobian view of c.wrt: every entry's value, caption and lights, and a gradient entry's lights
  jacobian(c) {
    const ctx = contextOf(c);
    let state = js.reduce(ctx, js.initialState(ctx, null), { type: "wrt", wrt: c.wrt });
    const jac = js.derive(ctx, state).jacobian;
    const out = { height: jac.height, width: jac.width, summary: js.jacobianSummary(c.spec, jac), entries: [], cells: [] };
    for (let row = 0; row < jac.height; row++) {
      for (let col = 0; col < jac.width; col++) {
        state = js.reduce(ctx, state, { type: "point", key: `jacobian|${row},${col}` });
        const view = js.derive(ctx, state);
        const entry = jac.entries.get(row * jac.width + col);
        out.cells.push({ caption: view.caption, lit: sorted(view.lit), selected: view.selected, value: entry ? entry.value : null });
      }
    }
    state = js.reduce(ctx, state, { type: "point", key: c.gradient });
    const view = js.derive(ctx, state);
    out.gradient = { lit: sorted(view.lit), caption: view.caption };
    return out;
  },
  // predict mode: ask about c.question, pick c.guesses, reveal; the marks and words before and after
  predict(c) {
    const ctx = contextOf(c);
    let state = js.initialState(ctx, null);
    if (c.view) state = js.reduce(ctx, state, { type: "wrt", wrt: c.wrt });
    state = js.reduce(ctx, state, { type: "mode", mode: "predict" });
    state = js.reduce(ctx, state, { type: "reveal" });
    state = js.reduce(ctx, state, { type: "click", key: c.question });  // after a reveal a click asks
    const asked = js.derive(ctx, state);
    state = js.reduce(ctx, state, { type: "point", key: c.guesses[0] || c.question });  // pointing lights nothing
    const pointed = js.derive(ctx, state);
    for (const g of [...c.guesses, c.unpicked, c.unpicked].filter(Boolean)) state = js.reduce(ctx, state, { type: "click", key: g });
    const picked = js.derive(ctx, state);
    state = js.reduce(ctx, state, { type: "reveal" });
    const revealed = js.derive(ctx, state);
    const again = js.derive(ctx, js.reduce(ctx, state, { type: "another" }));
    return {
      asked: { selected: asked.selected, caption: asked.caption, lit: asked.lit.size },
      pointed: { lit: pointed.lit.size, selected: pointed.selected },
      picked: { marks: Object.fromEntries(picked.marks), score: picked.score },
      revealed: { marks: Object.fromEntries(revealed.marks), score: revealed.score, caption: revealed.caption },
      again: { selected: again.selected, marks: again.marks.size, caption: again.caption },
    };
  },
  // chapter 8: each step's text, roles, pending arrays, example entry and caption
  steps(c) {
    const ctx = contextOf(c);
    let state = js.initialState(ctx, null);
    const out = [];
    for (let k = 0; k < c.spec.steps.length; k++) {
      state = js.reduce(ctx, state, { type: "step", step: k });
      const view = js.derive(ctx, state);
      const [name, index] = js.parseKey(view.selected);
      const pendingKey = [...view.pending].map((n) => js.key(n, js.shapeOf(c.spec, n, c.shapes).map(() => 0)))[0];
      out.push({ step: view.step, pending: sorted(view.pending), selected: view.selected, caption: view.caption,
        value: ctx.arrays[name].data[js.allIndices(ctx.arrays[name].shape).findIndex((i) => i.join() === index.join())],
        pendingCaption: pendingKey ? js.captionFor(ctx, state, pendingKey) : "" });
    }
    const last = js.reduce(ctx, state, { type: "step", step: c.spec.steps.length + 3 });
    out.push({ clamped: last.step });
    return out;
  },
  // every slider shape: the lights of each array's first and last entry, and their captions' numbers
  shapes(c) {
    return c.shapes_list.map((shapes) => {
      const ctx = js.context(c.spec, shapes, c.params || {}, c.values, {});
      let state = js.initialState(ctx, null);
      const out = {};
      for (const array of c.spec.arrays) {
        const all = js.allIndices(js.shapeOf(c.spec, array.name, shapes));
        for (const index of [all[0], all[all.length - 1]]) {
          state = js.reduce(ctx, state, { type: "pin", key: js.key(array.name, index) });
          const view = js.derive(ctx, state);
          out[js.key(array.name, index)] = [sorted(view.lit), view.caption.length > 0];
        }
      }
      return out;
    });
  },
  // point at the last entry of every array at c.shapes, then move to c.smaller: the view follows
  reshape(c) {
    const big = contextOf(c);
    const small = js.context(c.spec, c.smaller, c.params || {}, c.values, {});
    return c.spec.arrays.map((array) => {
      const last = js.shapeOf(c.spec, array.name, c.shapes).map((s) => s - 1);
      let state = js.reduce(big, js.initialState(big, null), { type: "pin", key: js.key(array.name, last) });
      state = js.reduce(big, state, { type: "point", key: js.key(array.name, last) });
      state = js.reduce(small, state, { type: "reshape" });
      const view = js.derive(small, state);
      return [view.selected, view.caption.length > 0];
    });
  },
  colours() {
    const out = {};
    for (const theme of Object.keys(js.PALETTES)) {
      out[theme] = [];
      for (let i = -100; i <= 100; i++) out[theme].push([js.textColour(js.colour(i / 100, theme)), ...js.colour(i / 100, theme)]);
    }
    return { colours: out, fmt: [1.2345, -0.004, -1.2, 0.31, 0].map(js.fmt) };
  },
};

process.stdout.write(JSON.stringify(input.cases.map((c) => JOBS[input.job](c))));
