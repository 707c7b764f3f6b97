// The live board: polls with the stamp it has (the server answers 204 while nothing
// changed), polls slower in a hidden tab, highlights cards that changed, and moves
// the SLA countdowns and ages forward between polls. All markup comes from the server.
(function () {
  "use strict";
  var VISIBLE_MS = 2500, HIDDEN_MS = 30000, TICK_MS = 15000;
  var timer = null, skew = 0, before = null;

  function board() { return document.getElementById("board"); }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms !== undefined ? ms : (document.hidden ? HIDDEN_MS : VISIBLE_MS));
  }

  function poll() {
    var el = board();
    if (el && window.htmx) { window.htmx.trigger(el, "board-poll"); }
    schedule();
  }

  // The words come from the server in the reader's language (data-fmt-* on #board:
  // "%(time)s left", "%(minutes)dm", ...), as services/board.countdown_words gives them.
  function fmt(name, values) {
    var el = board();
    var pattern = (el && el.getAttribute("data-fmt-" + name)) || "";
    return pattern.replace(/%\((\w+)\)(0?2?)[ds]/g, function (all, key, pad) {
      var v = values[key];
      if (v === undefined) { return all; }
      v = String(v);
      return pad && v.length < 2 ? "0" + v : v;
    });
  }

  function human(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    if (seconds < 60) { return fmt("s", { seconds: seconds }); }
    var m = Math.floor(seconds / 60);
    if (m < 60) { return fmt("m", { minutes: m }); }
    var h = Math.floor(m / 60); m = m % 60;
    if (h < 24) { return fmt("hm", { hours: h, minutes: m }); }
    return fmt("dh", { days: Math.floor(h / 24), hours: h % 24 });
  }

  function readSkew() {
    var el = board();
    var serverNow = el && Date.parse(el.dataset.now || "");
    if (serverNow) { skew = serverNow - Date.now(); }
  }

  // Move running countdowns forward; the colour thresholds come from the server.
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("#board .sla[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due), warn = Date.parse(el.dataset.warn);
      var left = (due - now) / 1000;
      var state = left < 0 ? "overdue" : (now >= warn ? "warning" : "ok");
      var text = el.querySelector(".sla-left");
      if (text) { text.textContent = left <= 0 ? fmt("overdue", { time: human(left) }) : fmt("left", { time: human(left) }); }
      ["ok", "warning", "overdue"].forEach(function (s) {
        el.classList.toggle("sla-" + s, s === state);
        var card = el.closest(".tcard");
        if (card) { card.classList.toggle("sla-" + s, s === state); }
      });
    });
    document.querySelectorAll("#board .age[data-since]").forEach(function (el) {
      el.textContent = human((now - Date.parse(el.dataset.since)) / 1000);
    });
    expireArrivals(now);
  }

  // "Just arrived" keeps a ticket for the server's window (data-since is where the
  // window began at the last render); an idle board drops what aged out by itself.
  function expireArrivals(now) {
    var strip = document.querySelector("#board .arrivals");
    if (!strip) { return; }
    var width = Date.parse(strip.dataset.now) - Date.parse(strip.dataset.since);
    var left = 0;
    strip.querySelectorAll(".arrival[data-created]").forEach(function (el) {
      if (now - Date.parse(el.dataset.created) > width) { el.remove(); } else { left += 1; }
    });
    var count = strip.querySelector(".arrivals-head .count");
    if (count) { count.textContent = left; }
    if (!left) { strip.remove(); }
  }

  function versions(el) {
    var out = {};
    if (!el) { return out; }
    el.querySelectorAll(".tcard[data-id]").forEach(function (c) { out[c.dataset.id] = c.dataset.version; });
    return out;
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    // Only a poll answer highlights (a filter change is the dispatcher's own doing).
    var el = board();
    before = (el && e.detail.elt === el) ? versions(el) : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    readSkew();
    if (before) {
      var seen = before;
      before = null;
      document.querySelectorAll("#board .tcard[data-id]").forEach(function (c) {
        if (seen[c.dataset.id] !== c.dataset.version) {
          c.classList.add("is-changed");
          c.addEventListener("animationend", function () { c.classList.remove("is-changed"); }, { once: true });
        }
      });
    }
  });

  document.addEventListener("visibilitychange", function () {
    // Back in view: catch up at once, then the fast pace again.
    schedule(document.hidden ? HIDDEN_MS : 0);
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!board()) { return; }
    readSkew();
    schedule();
    setInterval(tick, TICK_MS);
  });
})();
