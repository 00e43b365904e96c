// The answer box's module (bundled into gradlib/answer.js by `make js`): the anywidget view, and the
// pure functions the Node tests run (tests/lib/test_answer.py).
import { render, promptText } from "./view.js";

export { evaluate, NUMPY_NAMES, HELPER_NAMES } from "./evaluate.js";
export { parse, tokenize } from "./parse.js";
export { diagnose, shapeHint } from "./diagnose.js";
export { judge, draw } from "./judge.js";
export { fromNested, toNested, ReaderError } from "./ndarray.js";
export { render, promptText };
export default { render };
