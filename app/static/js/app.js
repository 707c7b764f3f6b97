// Shared behaviour for every page. No inline scripts (CSP): pages opt in with data- attributes.
(function () {
  "use strict";
  // Times written in the browser are in the app's zone (APP_TIMEZONE, on <body
  // data-timezone>), 24-hour, like the server's: never the phone's own zone.
  window.evercoldTime = function (date, opts) {
    var body = document.body, zone = (body && body.dataset.timezone) || "UTC";
    var o = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone };
    if (opts && opts.seconds) { o.second = "2-digit"; }
    var text;
    try { text = new Intl.DateTimeFormat("en-GB", o).format(date); }
    catch (e) { o.timeZone = "UTC"; text = new Intl.DateTimeFormat("en-GB", o).format(date); }
    return opts && opts.zone && body.dataset.zoneLabel ? text + " " + body.dataset.zoneLabel : text;
  };
  // The one way to confirm before a destructive action, on a plain form or on an htmx
  // element alike: data-confirm="Close this ticket?" (never hx-confirm, never a
  // hand-written confirm() elsewhere; tests/test_confirm.py keeps it so).
  function isHtmx(elt) {
    return ["hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"].some(function (a) {
      return elt.hasAttribute(a) || elt.hasAttribute("data-" + a);
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset || !form.dataset.confirm || isHtmx(form)) return;  // htmx: below
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  }, true);
  document.addEventListener("htmx:confirm", function (e) {
    var elt = e.detail && e.detail.elt;
    var question = elt && elt.dataset && elt.dataset.confirm;
    if (!question) return;
    e.preventDefault();
    if (window.confirm(question)) e.detail.issueRequest(true);
  });

  // Gloves and weak signal. A form marked data-once sends once: a second tap while the
  // next page loads does nothing. A control marked data-settle ignores a second tap within
  // 0.6 s; marked data-settle="load", also taps in the first 0.8 s after the page appears:
  // a double tap must not land on whatever the next page put under the finger ("Pause the
  // repair clock", then "Resume work" in the same place).
  var shownAt = Date.now();
  window.addEventListener("pageshow", function () {
    shownAt = Date.now();
    document.querySelectorAll("form[data-once][data-sent]").forEach(function (f) { delete f.dataset.sent; });
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once") || e.defaultPrevented) return;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
  });
  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-settle]");
    if (!el) return;
    var now = Date.now(), last = +(el.dataset.tappedAt || 0);
    if ((el.dataset.settle === "load" && now - shownAt < 800) || now - last < 600) { e.preventDefault(); e.stopPropagation(); return; }
    el.dataset.tappedAt = String(now);
  }, true);

  // A refused action that answers with a fragment to show in place (a 4xx with the
  // standard HX-Reswap header, see app.web.swap_in_place) is swapped like a success:
  // htmx 2 swaps no error response by default.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Reswap")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
})();
