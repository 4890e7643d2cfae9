// Draws the risk-of-bias summary figures from the JSON the page embeds, and downloads them.
(function () {
  const graphs = {};
  for (const id of ["traffic-light", "summary-plot"]) {
    const data = document.getElementById(id + "-data");
    if (!data) continue;
    const fig = JSON.parse(data.textContent);
    const box = document.getElementById(id);
    let target = box;
    const least = fig.layout.meta && fig.layout.meta.min_width;
    if (least) {
      // Never narrower than the figure can be read at: on a phone its box scrolls instead.
      target = document.createElement("div");
      target.style.minWidth = least + "px";
      box.appendChild(target);
    }
    graphs[id] = target;
    Plotly.newPlot(target, fig.data, fig.layout, { responsive: true, displaylogo: false });
  }
  const name = document.querySelector("[data-plot-name]")?.dataset.plotName || "risk-of-bias";
  document.querySelectorAll("[data-download]").forEach((button) => {
    button.addEventListener("click", () => {
      Plotly.downloadImage(graphs[button.dataset.download], {
        format: button.dataset.format,
        filename: name + "-" + button.dataset.download,
        scale: 2,
      });
    });
  });
})();
