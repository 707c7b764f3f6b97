// The bell (in every header) and the account pages. No inline scripts (CSP).
(function () {
  "use strict";
  // Pollers (the bell, the Telegram card waiting for a link) stay quiet in a hidden tab;
  // the bell refreshes as soon as the tab is shown again (hx-trigger visibilitychange).
  var POLLERS = { bell: true, telegram: true };
  document.addEventListener("htmx:confirm", function (e) {
    var elt = e.detail && e.detail.elt;
    if (elt && POLLERS[elt.id] && document.hidden) {
      e.preventDefault();
    }
  });
})();
