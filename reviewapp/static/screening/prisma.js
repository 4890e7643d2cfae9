// PRISMA page, PNG download: draw the SVG on a canvas at twice its size and save the canvas; no
// server round trip. The file name comes from the link's data-filename.
(function () {
  "use strict";
  const link = document.getElementById("download-png");
  if (!link) return;
  link.addEventListener("click", (e) => {
    e.preventDefault();
    const svg = document.querySelector("#prisma-diagram svg");
    const width = svg.viewBox.baseVal.width || svg.getBoundingClientRect().width;
    const height = svg.viewBox.baseVal.height || svg.getBoundingClientRect().height;
    const scale = 2;
    const blob = new Blob([new XMLSerializer().serializeToString(svg)], { type: "image/svg+xml" });
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = width * scale;
      canvas.height = height * scale;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      const save = document.createElement("a");
      save.download = link.dataset.filename || "prisma.png";
      save.href = canvas.toDataURL("image/png");
      document.body.appendChild(save);
      save.click();
      save.remove();
    };
    img.src = url;
  });
})();
