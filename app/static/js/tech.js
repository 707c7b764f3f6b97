// Technician pages: location sharing, the queue's polling, arrival with position,
// parts rows, and quiet messages. The server renders all markup; this file only shows,
// hides, fills in and sends. No inline scripts (CSP).
(function () {
  "use strict";

  var MINUTE = 60 * 1000;
  var LAST_SENT_KEY = "evercold.tech.locationSentAt";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // The words come from the toast element (data-msg-*), in the reader's language.
  function say(name, vars) {
    var el = document.getElementById("tech-toast");
    var out = (el && el.dataset[name]) || "";
    Object.keys(vars || {}).forEach(function (k) { out = out.split("{" + k + "}").join(vars[k]); });
    return out;
  }

  function toast(message) {
    var el = document.getElementById("tech-toast");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, 6000);
  }

  // --- location -------------------------------------------------------------------
  var geo = document.querySelector("[data-geo]");
  var geoState = "unknown"; // "granted" | "prompt" | "denied" | "unsupported"

  function showGeo(state) {
    if (!geo) return;
    geo.querySelectorAll("[data-geo-state]").forEach(function (p) {
      p.hidden = p.getAttribute("data-geo-state") !== state;
    });
    geo.setAttribute("data-geo-current", state);
  }

  function lastSent() {
    try { return parseInt(sessionStorage.getItem(LAST_SENT_KEY) || "0", 10) || 0; } catch (e) { return 0; }
  }

  function markSent() {
    try { sessionStorage.setItem(LAST_SENT_KEY, String(Date.now())); } catch (e) { /* private mode */ }
  }

  function getPosition(timeoutMs) {
    return new Promise(function (resolve, reject) {
      if (!("geolocation" in navigator)) { reject({ code: "unsupported" }); return; }
      if (geoState === "denied") { reject({ code: 1 }); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject, {
        enableHighAccuracy: true, timeout: timeoutMs || 15000, maximumAge: 30000
      });
    });
  }

  function onPositionError(err) {
    if (err && err.code === "unsupported") { showGeo("unsupported"); return; }
    if (err && err.code === 1) { geoState = "denied"; showGeo("off"); return; }
    showGeo("unavailable");
  }

  function sendLocation() {
    if (!geo) return Promise.resolve();
    return getPosition().then(function (pos) {
      return fetch(geo.getAttribute("data-geo-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ latitude: pos.coords.latitude, longitude: pos.coords.longitude })
      }).then(function (resp) {
        if (!resp.ok) { showGeo("unavailable"); return; }
        markSent();
        var t = geo.querySelector("[data-geo-time]");
        if (t) { t.textContent = window.evercoldTime(new Date(), { zone: true }); t.dateTime = new Date().toISOString(); }
        showGeo("sent");
      });
    }).catch(onPositionError);
  }

  function startGeo() {
    if (!geo) return;
    if (!("geolocation" in navigator)) { showGeo("unsupported"); return; }
    var ready = Promise.resolve();
    if (navigator.permissions && navigator.permissions.query) {
      ready = navigator.permissions.query({ name: "geolocation" }).then(function (status) {
        geoState = status.state;
        status.onchange = function () {
          geoState = status.state;
          if (geoState === "granted") sendLocation();
          if (geoState === "denied") showGeo("off");
        };
      }).catch(function () { /* older browsers: just ask */ });
    }
    ready.then(function () {
      if (geoState === "denied") { showGeo("off"); return; }
      // Opening the queue sends the position (asking the first time); other pages
      // only keep the once-a-minute rhythm going.
      if (geo.hasAttribute("data-geo-on-open") || Date.now() - lastSent() >= MINUTE) sendLocation();
    });
    setInterval(function () {
      if (document.hidden || geoState === "denied") return;
      if (Date.now() - lastSent() >= MINUTE) sendLocation();
    }, 15 * 1000);
  }

  // A ticket accepted (the server's HX-Trigger "ticketChanged" says which kinds of
  // change the action made, app/web.py): where is the technician now?
  document.body.addEventListener("ticketChanged", function (evt) {
    var kinds = (evt.detail && evt.detail.kinds) || [];
    if (kinds.indexOf("accepted") >= 0) sendLocation();
  });

  // "I'm on site": fill in the position before the request goes (quietly without it).
  function fillPosition(form) {
    return getPosition(10000).then(function (pos) {
      form.querySelector("input[name=latitude]").value = pos.coords.latitude;
      form.querySelector("input[name=longitude]").value = pos.coords.longitude;
    }).catch(function (err) { onPositionError(err); });
  }

  document.body.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-geo-fill")) return;
    evt.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fillPosition(form).then(function () {
      if (button) button.disabled = false;
      evt.detail.issueRequest(true);
    });
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.hasAttribute("data-geo-fill") || form.hasAttribute("hx-post") || form.dataset.filled) return;
    evt.preventDefault();
    fillPosition(form).then(function () { form.dataset.filled = "1"; form.submit(); });
  });

  // --- htmx behaviour on these pages --------------------------------------------
  // The queue refreshes itself every minute, but not while a reason is being typed,
  // nor in a hidden tab.
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-queue")) return;
    var busy = elt.querySelector("details.decline[open]") ||
      (document.activeElement && elt.contains(document.activeElement) &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName));
    if (document.hidden || busy) evt.preventDefault();
  });

  // An action on a card answers with the whole queue, re-sorted. Keep the tapped card
  // where the thumb was (the same distance from the top of the screen) and make sure
  // the confirmation the server put on it is on screen, instead of letting the list
  // jump and the notice land far above.
  var tapped = null;
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    var card = elt && elt.closest ? elt.closest(".tcard") : null;
    if (!card || !card.closest("[data-queue]") || !card.id) return;
    tapped = { id: card.id, top: card.getBoundingClientRect().top };
  });
  document.body.addEventListener("htmx:sendError", function () { tapped = null; });
  document.body.addEventListener("htmx:afterSwap", function () {
    if (!tapped) return;
    var anchor = tapped;
    tapped = null;
    var card = document.getElementById(anchor.id);
    var note = card ? card.querySelector("[data-card-notice]") : document.querySelector("[data-queue] > .notice");
    if (card) window.scrollBy(0, card.getBoundingClientRect().top - anchor.top);
    if (!note) return;
    var box = note.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) note.scrollIntoView({ block: "center" });
    note.setAttribute("tabindex", "-1");
    note.focus({ preventScroll: true });
  });

  document.body.addEventListener("htmx:sendError", function () {
    toast(say("msgOffline"));
  });
  document.body.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var queue = document.querySelector("[data-queue]");
    if (xhr.status === 409) {
      toast(say(queue ? "msgChangedList" : "msgChangedPage"));
    } else {
      toast(say("msgFailed", { code: xhr.status }));
    }
    if (queue && window.htmx) window.htmx.trigger(queue, "refresh");
  });

  // --- parts rows -----------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-remove-part]");
    if (!btn) return;
    var row = btn.closest("[data-part]");
    var costs = btn.closest("#costs");
    if (row) row.remove();
    if (costs) costs.dispatchEvent(new CustomEvent("partsChanged", { bubbles: true }));
  });

  document.body.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "parts") {
      var rows = target.querySelectorAll("[data-part]");
      var last = rows[rows.length - 1];
      var input = last && last.querySelector("input[type=text]");
      if (input) input.focus();
    }
  });

  // --- the completion form: a draft kept on this phone --------------------------
  // The fields (description, hours, parts rows) are kept in localStorage under the
  // user's and ticket's key as they are typed, come back on the next visit with a
  // note, and are cleared only when the server has taken the submission (its answer
  // is the redirect to the queue). Offline, the submit keeps the page and says so.
  var completeForm = document.querySelector("[data-complete-form][data-draft-key]");
  var WEEK = 7 * 24 * 3600 * 1000;

  function draftFields(form) {
    var parts = [];
    form.querySelectorAll("[data-part]").forEach(function (row) {
      var key = (row.querySelector("input[name=part]") || {}).value;
      var get = function (name) { var el = form.elements["part-" + key + "-" + name]; return el ? el.value : ""; };
      var part = { name: get("name"), quantity: get("quantity"), unitCost: get("unitCost") };
      if (part.name.trim() || part.quantity.trim() || part.unitCost.trim()) parts.push(part);
    });
    return { workDescription: form.elements.workDescription.value, laborHours: form.elements.laborHours.value,
             parts: parts };
  }

  function saveDraft(form) {
    var f = draftFields(form);
    try {
      if (!f.workDescription.trim() && !f.laborHours.trim() && !f.parts.length) {
        localStorage.removeItem(form.dataset.draftKey);
      } else {
        localStorage.setItem(form.dataset.draftKey, JSON.stringify({ savedAt: Date.now(), fields: f }));
      }
    } catch (e) { /* full or private mode */ }
  }

  function loadDraft(form) {
    try {
      var d = JSON.parse(localStorage.getItem(form.dataset.draftKey) || "null");
      return d && Date.now() - d.savedAt < WEEK ? d.fields : null;
    } catch (e) { return null; }
  }

  function clearDraft(form) {
    try { localStorage.removeItem(form.dataset.draftKey); } catch (e) { /* private mode */ }
  }

  function restoreDraft(form, d) {
    var changed = false;
    function set(el, value) {
      if (el && typeof value === "string" && el.value !== value) { el.value = value; changed = true; }
    }
    set(form.elements.workDescription, d.workDescription);
    set(form.elements.laborHours, d.laborHours);
    var box = form.querySelector("[data-parts]");
    var rows = function () { return box.querySelectorAll("[data-part]"); };
    var wanted = (d.parts || []).length;
    var missing = Math.max(0, wanted - rows().length);
    var fetches = [];
    for (var i = 0; i < missing; i++) {
      fetches.push(fetch(form.dataset.partUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; }).catch(function () { return ""; }));
    }
    return Promise.all(fetches).then(function (htmls) {
      htmls.forEach(function (html) {
        box.insertAdjacentHTML("beforeend", html.replace(/ autofocus/g, ""));
      });
      var current = rows();
      (d.parts || []).forEach(function (part, n) {
        var row = current[n];
        if (!row) return;
        var key = row.querySelector("input[name=part]").value;
        set(form.elements["part-" + key + "-name"], part.name);
        set(form.elements["part-" + key + "-quantity"], part.quantity);
        set(form.elements["part-" + key + "-unitCost"], part.unitCost);
      });
      if (changed) {
        var costs = form.querySelector("#costs");
        if (costs) costs.dispatchEvent(new CustomEvent("partsChanged", { bubbles: true }));
      }
      return changed;
    });
  }

  if (completeForm) {
    var draftTimer = null;
    completeForm.addEventListener("input", function (evt) {
      if (evt.target.type === "file" || evt.target.name === "photoTag" || evt.target.name === "caption") return;
      clearTimeout(draftTimer);
      draftTimer = setTimeout(function () { saveDraft(completeForm); }, 300);
    });
    document.addEventListener("click", function (evt) {
      if (evt.target.closest && evt.target.closest("[data-remove-part]")) setTimeout(function () { saveDraft(completeForm); }, 0);
    });
    var kept = document.getElementById("form-error") ? null : loadDraft(completeForm);
    if (kept) {
      restoreDraft(completeForm, kept).then(function (changed) {
        if (changed) document.getElementById("draft-note").hidden = false;
      });
    }
  }

  function notSent(form) {
    var submit = form.querySelector("[data-submit]");
    if (submit) { delete submit.dataset.sent; submit.classList.remove("is-busy"); }
    var note = form.querySelector("[data-offline-note]");
    if (note) { note.hidden = false; note.scrollIntoView({ block: "center" }); }
  }

  function sendCompletion(form) {
    saveDraft(form);
    var note = form.querySelector("[data-offline-note]");
    if (note) note.hidden = true;
    if (navigator.onLine === false) { notSent(form); return; }
    fetch(form.getAttribute("action"), {
      method: "POST", credentials: "same-origin", body: new FormData(form), redirect: "manual",
      headers: { "X-Complete-Draft": "1" }
    }).then(function (resp) {
      var done = resp.headers.get("X-Completed");
      if (resp.ok && done) {
        // Taken: the queue (with its flash) is the next page; the draft has done its job.
        clearDraft(form);
        window.location.assign(done);
        return;
      }
      // Refused (a field to fix) or another answer: let the browser post it as usual
      // to show the server's page; nothing was saved, the draft stays until it is.
      form.dataset.native = "1";
      form.submit();
    }).catch(function () { notSent(form); });
  }

  // One submission per tap.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.hasAttribute("data-complete-form")) return;
    if (parseInt(form.dataset.uploading || "0", 10) > 0) {
      evt.preventDefault();
      var note = form.querySelector("[data-submit-note]");
      if (note) note.hidden = false;
      return;
    }
    var submit = form.querySelector("[data-submit]");
    if (submit) {
      if (submit.dataset.sent) { evt.preventDefault(); return; }
      submit.dataset.sent = "1";
      submit.classList.add("is-busy");
    }
    if (form.dataset.draftKey && window.fetch && window.FormData) {
      evt.preventDefault();
      sendCompletion(form);
    }
  });

  startGeo();
})();
