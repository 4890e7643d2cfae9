// The lead's ranking dashboard: draws the plotly figures whose data the page embeds with
// json_script (<div data-ranking-figure="ID">), on load and after each htmx refresh.
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false };

  function render() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-ranking-figure]").forEach(function (target) {
      var source = document.getElementById(target.dataset.rankingFigure);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.react(target, fig.data, fig.layout, config);
    });
  }

  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:afterSettle", render);
})();
