// Analytics filters: a new period or filter applies at once (htmx submits the form);
// typing a date switches the period to "Custom". No inline scripts (CSP).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function form(el) { return el.closest("form[data-an-filters]"); }

  function submit(f) {
    if (typeof f.requestSubmit === "function") { f.requestSubmit(); } else { f.submit(); }
  }

  document.addEventListener("change", function (e) {
    var el = e.target;
    var f = form(el);
    if (!f) { return; }
    if (el.hasAttribute("data-an-preset")) {
      if (el.value === "custom") {
        var first = f.querySelector("input[data-an-date]");
        if (first) { first.focus(); }
        return;
      }
      submit(f);
    } else if (el.hasAttribute("data-an-date")) {
      var preset = f.querySelector("[data-an-preset]");
      if (preset) { preset.value = "custom"; }
    } else if (el.hasAttribute("data-an-auto")) {
      submit(f);
    }
  });
})();
