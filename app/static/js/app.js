// Shared behaviour for every page. No inline scripts (CSP): pages opt in with data- attributes.
(function () {
  "use strict";
  // Confirm before destructive actions: <form data-confirm="Close this ticket?">
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  }, true);
})();
