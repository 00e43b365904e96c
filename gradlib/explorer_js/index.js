// The explorer's view (gradlib.explorer.Explorer, an anywidget): this folder is bundled by esbuild
// (`make js`) into the one ES module anywidget loads, gradlib/explorer.js. The pure parts are
// exported too, for the tests under Node (tests/lib/test_explorer.py).

import { render } from "./render.js";

export { allIndices, fmt, key, nameOf, parseKey, shapeOf } from "./arrays.js";
export { caption, formulaOf, questionText, scoreLine } from "./captions.js";
export { PALETTES, colour, textColour } from "./colours.js";
export { columnLights, jacobian, jacobianCaption, jacobianEntryLights, jacobianSummary } from "./jacobian.js";
export { anotherEntry, captionFor, context, derive, initialState, litFor, pendingArrays, reduce, stepExample, stepView,
  verdicts } from "./state.js";
export { dependencies, evaluate, givenArrays, lights } from "./values.js";

export default { render };
