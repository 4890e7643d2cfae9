// Renders the plotly figures a page embeds as <script type="application/json" data-figure="...">
// into the element named by data-target, on load and after every htmx swap.
(function () {
  "use strict";
  var config = {
    responsive: false,
    displaylogo: false,
    toImageButtonOptions: { format: "png", scale: 2 },
  };

  function draw(node) {
    var target = document.getElementById(node.dataset.target);
    if (!target) return;
    // A poll that changed nothing in this figure leaves it alone.
    if (target.dataset.rendered && target.dataset.rendered === node.dataset.version) return;
    var fig = JSON.parse(node.textContent);
    // Fit wide figures (the forest plot) to the page, down to 900 px; a narrow screen scrolls
    // inside the figure's own box instead. Narrower fixed-width figures keep their size, and
    // figures without a fixed width follow their container.
    var options = Object.assign({}, config, { responsive: !fig.layout.width });
    if (fig.layout.width > 900 && target.clientWidth > 0) {
      fig.layout.width = Math.max(Math.min(fig.layout.width, target.clientWidth), 900);
    }
    target.dataset.rendered = node.dataset.version || "1";
    window.Plotly.react(target, fig.data, fig.layout, options).then(function () {
      document.body.dispatchEvent(new CustomEvent("figure-rendered", { detail: node.dataset.figure }));
    });
  }

  function render(root) {
    if (!window.Plotly) return;
    // Only the figures shown: a figure in a hidden tab is drawn when its tab is opened, so
    // the forest plot is not kept waiting for figures nobody may look at.
    (root || document).querySelectorAll("script[data-figure]").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (target && !target.closest("[hidden]")) draw(node);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { render(document); });
  // After an outerHTML swap the event target is detached: look at the whole page instead.
  document.addEventListener("htmx:afterSettle", function () { render(document); });

  // Figure tabs: show one figure at a time; keys 1-4 switch.
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-tab]");
    if (!tab) return;
    var group = tab.closest("[data-tabs]");
    group.querySelectorAll("[data-tab]").forEach(function (t) {
      t.setAttribute("aria-selected", t === tab ? "true" : "false");
    });
    group.querySelectorAll("[data-panel]").forEach(function (p) {
      p.hidden = p.dataset.panel !== tab.dataset.tab;
    });
    if (!window.Plotly) return;
    var panel = group.querySelector('[data-panel="' + tab.dataset.tab + '"]');
    var node = panel && panel.querySelector("script[data-figure]");
    var target = node && document.getElementById(node.dataset.target);
    if (!target) return;
    // Drawn the first time its tab opens (or the figure changed since): draw it now, at its size.
    if (target.dataset.rendered !== (node.dataset.version || "1")) draw(node);
    else window.Plotly.Plots.resize(target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey) return;
    var tabs = document.querySelectorAll("[data-tabs] [data-tab]");
    var i = parseInt(event.key, 10);
    if (i >= 1 && i <= tabs.length) tabs[i - 1].click();
  });
})();
