// Load before plotly. Plotly draws rich text in figures (<b>, <i>, <sup> in labels and hover
// boxes) by calling setAttribute("style", ...) on SVG <tspan>s, which the Content-Security-Policy
// (style-src without 'unsafe-inline') blocks, so bold labels would silently lose their weight.
// Setting the same declarations through CSSOM (element.style) is not an inline style in the
// policy's sense and is allowed: this routes SVG elements' style attributes there. Markup that
// arrives with a style attribute is still refused; only scripts, which could set element.style
// anyway, are affected. See docs/security.md.
(function () {
  "use strict";
  if (window.__plotlyCspStyles) return;
  window.__plotlyCspStyles = true;
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof SVGElement && String(name).toLowerCase() === "style") {
      this.style.cssText = String(value);
      return;
    }
    return setAttribute.call(this, name, value);
  };
})();
