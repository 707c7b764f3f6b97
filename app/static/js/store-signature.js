// The approval signature pad (signature_pad 5, vendored). Works with finger, pen and
// mouse through pointer events. "Approve" stays disabled until something is drawn;
// the server checks the PNG again (decodes, bounded size, not blank).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("approve-form");
  if (!canvas || !form || typeof window.SignaturePad !== "function") return;

  var approve = document.getElementById("approve-button");
  var clear = document.getElementById("signature-clear");
  var hidden = document.getElementById("signature-data");
  var empty = document.getElementById("signature-empty");
  var box = canvas.parentElement;

  var pad = new window.SignaturePad(canvas, {
    minWidth: 1,
    maxWidth: 3,
    penColor: "#0f2940",
    backgroundColor: "rgba(0,0,0,0)"
  });

  function update() {
    var blank = pad.isEmpty();
    approve.disabled = blank;
    box.classList.toggle("has-ink", !blank);
    if (!blank && empty) empty.hidden = true;
  }

  // Match the drawing buffer to the displayed size and the screen's pixel ratio,
  // keeping what was drawn. Only width changes matter: phones fire resize when
  // the address bar hides, which must not wipe a signature.
  var lastWidth = 0;
  function resize() {
    var width = canvas.offsetWidth;
    if (!width || width === lastWidth) return;
    lastWidth = width;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.toData();
    canvas.width = width * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (data.length) pad.fromData(data);
    update();
  }
  window.addEventListener("resize", resize);
  resize();

  pad.addEventListener("endStroke", update);
  clear.addEventListener("click", function () {
    pad.clear();
    hidden.value = "";
    update();
  });

  form.addEventListener("submit", function (e) {
    if (pad.isEmpty()) {
      e.preventDefault();
      if (empty) empty.hidden = false;
      approve.disabled = true;
      return;
    }
    hidden.value = pad.toDataURL("image/png");
  }, true);

  update();
})();
