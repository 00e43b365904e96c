/* Loads the embedded-widget manager (@jupyter-widgets/html-manager 1.x) when a reader nears a widget,
 * and prepares the page for it.
 *
 * myst-nb puts this one script in the <head> of every page that embeds widget state (see
 * nb_ipywidgets_js in _config.yml, which also gives every URL it uses, in data- attributes).
 *
 * 1. requirejs resolves module names next to the page by default. The manager's webpack bundles
 *    take their public path from that module URI, so its font-awesome fonts 404; and the manager
 *    first asks requirejs for a widget's front end by bare name (e.g. "anywidget" -> a 404 next
 *    to the page) before it falls back to its CDN. The `paths` in data-require-paths (JSON), with
 *    the manager's own modules pointed into the manager's dist/ folder (the folder of its URL),
 *    are set before require.js loads.
 *
 * 2. Lazy loading. The manager (embed-amd.js, 0.9 MB gzipped) is needed only to draw the widgets,
 *    which sit far down the chapters; loaded up front (deferred) it was half of a chapter's
 *    transfer and held back DOMContentLoaded while it was parsed. So each widget output first
 *    shows a light placeholder (data-placeholder, styled in book.css, about as tall as an
 *    explorer, so the page barely moves), and require.js, then embed-amd.js, are added to the
 *    page (in that order: the second on the first's load event; the manager and the front ends
 *    of data-require-paths are fetched meanwhile through preload links) on the first of:
 *    - a widget output coming within one viewport height of the viewport (IntersectionObserver);
 *    - keyboard focus entering a widget's notebook cell (its code, its copy button);
 *    - at once, if the browser has no IntersectionObserver, or if the page was opened at an
 *      anchor (#section) within reach of a widget.
 *    The attributes of the two scripts are the JSON objects in data-requirejs and
 *    data-widget-manager (src and every other attribute, e.g. the manager's
 *    data-jupyter-widgets-cdn). The manager renders every widget of the page once, at once if the
 *    page's load event has passed, else on it; the placeholder of an output is removed when its
 *    widget has drawn itself (or shows data-placeholder-failed if a script cannot be loaded).
 *
 * 3. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue(["Typeset", Hub, el]);
 *    the book loads MathJax 3, which has no Hub, so every labelled widget throws a TypeError.
 *    Every MathJax object the page gets (the config object, then MathJax 3 itself, which
 *    replaces window.MathJax when it starts) is given a Hub whose Queue calls MathJax 3's
 *    typesetPromise([el]) once MathJax has started. Labels are written for Jupyter, whose
 *    MathJax reads $...$ and $$...$$; the site's MathJax reads \(...\) and \[...\] only, so
 *    the label's dollar delimiters are rewritten first.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  function setting(name) {                               // a data- attribute of this script tag
    return (script && script.getAttribute("data-" + name)) || "";
  }
  function jsonSetting(name) {
    var value = setting(name);
    return value ? JSON.parse(value) : null;
  }
  var requirejsScript = jsonSetting("requirejs");        // {"src": ..., other attributes}
  var managerScript = jsonSetting("widget-manager");

  // --- 1. requirejs paths, before require.js loads ---------------------------------------------
  var frontEnds = jsonSetting("require-paths") || {};  // widget front ends: module -> URL without .js
  var paths = Object.assign({}, frontEnds);
  if (managerScript) {
    // embed-amd.js defines the manager's bundles as named modules; each finds its fonts next to
    // its module URI, so all of them get a URI inside the manager's dist/ (nothing is fetched
    // there: the modules are already defined).
    var dist = managerScript.src.slice(0, managerScript.src.lastIndexOf("/"));
    var own = { "@jupyter-widgets/html-manager/dist": dist };
    ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
      own["@jupyter-widgets/" + name] = dist + "/" + name;
    });
    Object.keys(own).forEach(function (id) { if (!(id in paths)) paths[id] = own[id]; });
  }
  if (typeof window.require === "function" && typeof window.require.config === "function") {
    window.require.config({ paths: paths });            // require.js already loaded
  } else {
    var config = window.require || {};                   // require.js reads this when it loads
    config.paths = Object.assign({}, config.paths, paths);
    window.require = config;
  }

  // --- 2. lazy loading ---------------------------------------------------------------------------
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var REACH = "100% 0px";           // load when a widget is within one viewport height
  var areas = [];                   // the elements holding the widget views (one per output)
  var placeholders = [];
  var stopWatching = [];
  var requested = false;

  function addScript(attributes, onload) {
    var element = document.createElement("script");
    Object.keys(attributes).forEach(function (name) { element.setAttribute(name, attributes[name]); });
    element.addEventListener("load", onload || function () {});
    element.addEventListener("error", failed);
    document.head.appendChild(element);
  }

  function preload(src, crossorigin) {  // fetch now a script that runs later (same CORS mode)
    var link = document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = src;
    if (crossorigin !== undefined) link.setAttribute("crossorigin", crossorigin);
    document.head.appendChild(link);
  }

  function failed() {
    placeholders.forEach(function (box) {
      box.textContent = setting("placeholder-failed") || "This widget could not be loaded.";
    });
  }

  function loadManager() {
    if (requested || !requirejsScript || !managerScript) return;
    requested = true;
    stopWatching.forEach(function (stop) { stop(); });
    addScript(requirejsScript, function () { addScript(managerScript); });
    // requested after require.js: the manager, and the front ends it will ask requirejs for
    // (requirejs adds ".js" and no crossorigin attribute)
    preload(managerScript.src, managerScript.crossorigin);
    Object.keys(frontEnds).forEach(function (module) { preload(frontEnds[module] + ".js"); });
  }

  function showPlaceholder(area) {
    var box = document.createElement("div");
    box.className = "widget-placeholder";
    box.textContent = setting("placeholder") || "Loading\u2026";
    area.insertBefore(box, area.querySelector(VIEW));
    placeholders.push(box);
    var rendered = new MutationObserver(function () {
      // the manager puts a .widget-subarea before each view; the widget's element inside it
      // gets children once the view has drawn itself
      var subarea = area.querySelector(":scope > .widget-subarea");
      var widget = subarea && subarea.firstElementChild;
      if (widget && widget.childElementCount > 0) {
        rendered.disconnect();
        box.remove();
        placeholders.splice(placeholders.indexOf(box), 1);
      }
    });
    rendered.observe(area, { childList: true, subtree: true });
  }

  function withinReach(element, target) {                // target's viewport covers element, +- REACH
    var box = element.getBoundingClientRect();
    var at = target.getBoundingClientRect().top;
    var height = window.innerHeight || document.documentElement.clientHeight;
    return box.bottom > at - height && box.top < at + 2 * height;
  }

  function openedNearWidget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    return !!target && areas.some(function (area) { return withinReach(area, target); });
  }

  function watch() {
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) loadManager();
    }, { rootMargin: REACH });
    areas.forEach(function (area) { observer.observe(area); });
    var cells = areas.map(function (area) { return area.closest(".cell") || area; });
    function onFocus(event) {
      if (cells.some(function (cell) { return cell.contains(event.target); })) loadManager();
    }
    document.addEventListener("focusin", onFocus);
    stopWatching.push(
      function () { observer.disconnect(); },
      function () { document.removeEventListener("focusin", onFocus); }
    );
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(VIEW), function (view) {
      if (view.parentElement && areas.indexOf(view.parentElement) === -1) areas.push(view.parentElement);
    });
    if (!areas.length) return;                           // widget state but no view: nothing to draw
    areas.forEach(showPlaceholder);
    if (!("IntersectionObserver" in window) || openedNearWidget()) loadManager();
    else watch();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // --- 3. MathJax 2's Hub on MathJax 3 -------------------------------------------------------------
  function jupyterDelimiters(element) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeValue.indexOf("$") !== -1) {
        node.nodeValue = node.nodeValue
          .replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
          .replace(/\$([^$]+)\$/g, "\\($1\\)");
      }
    }
  }

  function typeset(elements) {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || !mathjax.startup.promise) {
      return Promise.resolve();                          // not MathJax 3: nothing to do
    }
    (elements || []).forEach(jupyterDelimiters);
    return mathjax.startup.promise.then(function () {
      return window.MathJax.typesetPromise(elements);
    }).catch(function (error) {
      console.warn("MathJax could not typeset a widget label:", error);
    });
  }

  var hub = {
    /* MathJax 2's queue: each job is ["Typeset", MathJax.Hub, element] or a function. */
    Queue: function () {
      var jobs = Array.prototype.slice.call(arguments);
      return jobs.reduce(function (done, job) {
        return done.then(function () {
          if (Array.isArray(job) && job[0] === "Typeset") {
            return typeset(job[2] ? [job[2]] : undefined);
          }
          if (typeof job === "function") {
            return job();
          }
        });
      }, Promise.resolve());
    },
  };

  function withHub(mathjax) {
    if (mathjax && typeof mathjax === "object" && !mathjax.Hub) {
      // not enumerable: MathJax 3 copies its config object's keys, Hub is not one of them
      Object.defineProperty(mathjax, "Hub", { value: hub, configurable: true, writable: true });
    }
    return mathjax;
  }

  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
