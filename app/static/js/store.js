// Store manager pages: busy buttons, photo count, tap-to-enlarge photos, print.
// No inline scripts (CSP): everything hooks on ids and data- attributes.
(function () {
  "use strict";

  // A submit button with data-busy-text shows it and stops double submits.
  document.addEventListener("submit", function (e) {
    if (e.defaultPrevented) return;
    var button = e.target.querySelector("button[type=submit][data-busy-text]");
    if (!button) return;
    // Let the submit go out first, then disable (a disabled submitter sends nothing).
    window.setTimeout(function () {
      button.dataset.idleText = button.textContent;
      button.disabled = true;
      button.textContent = button.dataset.busyText;
    }, 0);
  });

  // Coming back with the back button: the page may be restored with busy buttons.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    document.querySelectorAll("button[data-busy-text][data-idle-text]").forEach(function (b) {
      b.disabled = false;
      b.textContent = b.dataset.idleText;
    });
  });

  // How many photos were chosen (and a warning past the limit).
  document.querySelectorAll("input.photo-input").forEach(function (input) {
    var out = input.parentElement.querySelector(".photo-count");
    input.addEventListener("change", function () {
      var n = input.files ? input.files.length : 0;
      var max = parseInt(input.dataset.max || "0", 10);
      if (!out) return;
      if (max && n > max) {
        out.textContent = n + " photos chosen: only " + max + " can be sent.";
        out.classList.add("field-error");
      } else {
        out.textContent = n ? n + (n === 1 ? " photo" : " photos") + " chosen" : "";
        out.classList.remove("field-error");
      }
    });
  });

  // Tap a photo to see it big; the link still works without the dialog.
  var viewer = document.getElementById("photo-viewer");
  var viewerImg = document.getElementById("photo-viewer-img");
  if (viewer && viewerImg && typeof viewer.showModal === "function") {
    document.addEventListener("click", function (e) {
      var link = e.target.closest ? e.target.closest("a.photo-link") : null;
      if (!link) return;
      e.preventDefault();
      viewerImg.src = link.dataset.full || link.href;
      viewerImg.alt = (link.querySelector("img") || {}).alt || "Photo";
      viewer.showModal();
    });
    viewer.addEventListener("click", function (e) {
      if (e.target === viewer || e.target === viewerImg) viewer.close();
    });
    viewer.addEventListener("close", function () { viewerImg.removeAttribute("src"); });
  }

  var print = document.getElementById("print-report");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
