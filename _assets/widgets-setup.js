/* Prepares a page for the embedded-widget manager (@jupyter-widgets/html-manager 1.x).
 *
 * myst-nb loads this file first on every page that embeds widget state, before require.js and
 * the manager's embed-amd.js (see nb_ipywidgets_js in _config.yml). It fixes two defects of the
 * default setup, both seen in Chromium:
 *
 * 1. requirejs resolves module names next to the page by default. The manager's webpack bundles
 *    take their public path from that module URI, so its font-awesome fonts 404; and the manager
 *    first asks requirejs for a widget's front end by bare name (e.g. "anywidget" -> a 404 next
 *    to the page) before it falls back to its CDN. The `paths` in this script tag's
 *    data-require-paths attribute (JSON, set before require.js loads) point both at the CDN.
 *
 * 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue(["Typeset", Hub, el]);
 *    the book loads MathJax 3, which has no Hub, so every labelled widget throws a TypeError.
 *    Every MathJax object the page gets (the config object, then MathJax 3 itself, which
 *    replaces window.MathJax when it starts) is given a Hub whose Queue calls MathJax 3's
 *    typesetPromise([el]) once MathJax has started. Labels are written for Jupyter, whose
 *    MathJax reads $...$ and $$...$$; the site's MathJax reads \(...\) and \[...\] only, so
 *    the label's dollar delimiters are rewritten first.
 */
(function () {
  "use strict";

  var attribute = document.currentScript && document.currentScript.getAttribute("data-require-paths");
  if (attribute) {
    var paths = JSON.parse(attribute);
    // embed-amd.js defines the manager's bundles as named modules; each finds its fonts next to
    // its module URI, so all of them get a URI inside the manager's dist/ (nothing is fetched
    // there: the modules are already defined).
    var dist = paths["@jupyter-widgets/html-manager/dist"];
    if (dist) {
      ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
        var id = "@jupyter-widgets/" + name;
        if (!(id in paths)) paths[id] = dist + "/" + name;
      });
    }
    if (typeof window.require === "function" && typeof window.require.config === "function") {
      window.require.config({ paths: paths });          // require.js already loaded
    } else {
      var config = window.require || {};                 // require.js reads this when it loads
      config.paths = Object.assign({}, config.paths, paths);
      window.require = config;
    }
  }

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
