/* Draws the book's anywidgets on the static site: no kernel, no widget manager, nothing fetched.
 *
 * myst-nb puts this one script (deferred) on the pages that embed widget state, and only on them
 * (nb_ipywidgets_js in _config.yml). In Jupyter nothing of this runs: anywidget's own front end
 * draws the same widgets there, talking to the kernel.
 *
 * The page carries, as JSON in <script> tags that the browser does not run:
 *  - the widget state, application/vnd.jupyter.widget-state+json: {"state": {model id: {"model_module",
 *    "state": {trait: value}}}}, every synced trait of every widget as it was when the notebook ran;
 *  - one view per widget output, application/vnd.jupyter.widget-view+json: {"model_id": ...}, inside
 *    the element where the widget belongs.
 * An anywidget's whole view is JavaScript in its state: "_esm", an ES module's source, whose export
 * `render({model, el})` draws the widget into el (anywidget's front-end contract), and "_css".
 * For each view this script marks the output with the widget's class (data-widget, e.g.
 * "gradlib.answer.Answer"), injects the widget's CSS once, puts a placeholder in the output (book.css
 * makes it about as tall as an explorer, a widget's own CSS may size it for that widget, so the page
 * does not jump), imports the module from its source (a Blob URL: same
 * origin, no network), and calls render with a model: get, set, on("change:x"),
 * off and save_changes over the embedded state. With no kernel behind the page, set changes the
 * state in the page and tells the widget's own listeners; save_changes has nowhere to send it.
 * Every widget is drawn as soon as the page is parsed: its module is small, and drawing takes a few
 * milliseconds (benchmarks/bench_site.py), so a reader who scrolls, tabs or follows a #link to an
 * explorer finds it live. A widget that is not an anywidget, or whose module fails, keeps its
 * placeholder with the data-placeholder-failed message (and the error goes to the console).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';

  function setting(name, otherwise) {                   // a data- attribute of this script's tag
    return (script && script.getAttribute("data-" + name)) || otherwise;
  }

  function readModels() {                               // {model id: {"model_module", "state"}}
    var models = {};
    document.querySelectorAll(STATE).forEach(function (tag) {
      Object.assign(models, JSON.parse(tag.textContent).state);
    });
    return models;
  }

  /* anywidget's model, over one widget's state. Listeners get no arguments (they read the model),
   * and are told only of real changes (compared as JSON, as Backbone compares deeply). */
  function makeModel(state) {
    var listeners = {};                                 // event name -> callbacks
    return {
      get: function (name) { return state[name]; },
      set: function (name, value) {
        var changed = JSON.stringify(state[name]) !== JSON.stringify(value);
        state[name] = value;
        if (changed) (listeners["change:" + name] || []).slice().forEach(function (callback) { callback(); });
      },
      on: function (event, callback) { (listeners[event] = listeners[event] || []).push(callback); },
      off: function (event, callback) {
        if (!event) listeners = {};
        else if (!callback) delete listeners[event];
        else listeners[event] = (listeners[event] || []).filter(function (c) { return c !== callback; });
      },
      save_changes: function () {},                     // no kernel to send the state to
      send: function () {},                             // nor custom messages
    };
  }

  var modules = {};                                     // _esm source -> promise of its module
  function importSource(source) {
    if (!modules[source]) {
      var url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      modules[source] = import(url).finally(function () { URL.revokeObjectURL(url); });
    }
    return modules[source];
  }

  var styled = {};                                      // _css already injected
  function injectCss(css) {
    if (!css || styled[css]) return;
    styled[css] = true;
    var style = document.createElement("style");
    style.textContent = css;
    document.head.appendChild(style);
  }

  /* The module's render: anywidget accepts `export default {render}`, a default function that
   * returns {render} (maybe a promise of it), and a named `export function render`. */
  function renderOf(module) {
    var found = module.default || module;
    return Promise.resolve(typeof found === "function" ? found() : found).then(function (widget) {
      var render = (widget && widget.render) || module.render;
      if (typeof render !== "function") throw new Error("the widget's module exports no render()");
      return render;
    });
  }

  function mount(view, models, shared) {
    var area = view.parentElement;
    var id = JSON.parse(view.textContent).model_id;
    var widget = models[id];
    if (widget && widget.state) {                       // the widget's CSS first: it may size its placeholder,
      area.setAttribute("data-widget", String(widget.state._anywidget_id || ""));  // [data-widget=...] > .widget-placeholder
      injectCss(widget.state._css);
    }
    var placeholder = document.createElement("div");
    placeholder.className = "widget-placeholder";
    placeholder.textContent = setting("placeholder", "Loading\u2026");
    area.insertBefore(placeholder, view);
    return Promise.resolve().then(function () {
      if (!widget || widget.model_module !== "anywidget" || typeof widget.state._esm !== "string") {
        throw new Error("widget " + id + " is not an anywidget with its _esm: it needs Jupyter to run");
      }
      return importSource(widget.state._esm).then(renderOf);
    }).then(function (render) {
      shared[id] = shared[id] || makeModel(widget.state);  // views of one widget share its model
      var subarea = document.createElement("div");
      subarea.className = "widget-subarea";
      var el = document.createElement("div");
      subarea.appendChild(el);
      area.insertBefore(subarea, view);
      return Promise.resolve(render({ model: shared[id], el: el })).then(function () {
        placeholder.remove();
      });
    }).catch(function (error) {
      placeholder.textContent = setting("placeholder-failed", "This widget could not be drawn.");
      console.error("widget-host.js:", error);
    });
  }

  function start() {
    var views = document.querySelectorAll(VIEW);
    if (!views.length) return;
    var models = readModels();
    var shared = {};
    views.forEach(function (view) { mount(view, models, shared); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
