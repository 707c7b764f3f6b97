// Store manager pages: busy buttons, the report form (photos shrunk on the phone, a
// progress bar per photo, a draft kept on the phone), tap-to-enlarge photos, print.
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

  // Tap a photo to see it big; the link still works without the dialog.
  var viewer = document.getElementById("photo-viewer");
  var viewerImg = document.getElementById("photo-viewer-img");
  var viewerCaption = document.getElementById("photo-viewer-caption");
  if (viewer && viewerImg && typeof viewer.showModal === "function") {
    document.addEventListener("click", function (e) {
      var link = e.target.closest ? e.target.closest("a.photo-link") : null;
      if (!link) return;
      e.preventDefault();
      viewerImg.src = link.dataset.full || link.href;
      viewerImg.alt = (link.querySelector("img") || {}).alt || "Photo";
      if (viewerCaption) {
        viewerCaption.textContent = link.dataset.caption || "";
        viewerCaption.hidden = !link.dataset.caption;
      }
      viewer.showModal();
    });
    viewer.addEventListener("click", function (e) {
      if (e.target === viewer || e.target === viewerImg) viewer.close();
    });
    viewer.addEventListener("close", function () { viewerImg.removeAttribute("src"); });
  }

  // "Add a photo" on the ticket page: the photo is shrunk on the phone first (the same
  // code as the report form, photo-prepare.js) and shown before it is sent.
  var addPhoto = document.getElementById("store-photo-form");
  if (addPhoto && window.EvercoldPhotos && window.DataTransfer) initAddPhoto(addPhoto);

  function initAddPhoto(form) {
    var input = form.querySelector("#store-photo");
    var preview = form.querySelector("#store-photo-preview");
    var status = form.querySelector("#store-photo-status");
    var button = form.querySelector("button[type=submit]");
    var pending = null;
    var url = null;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (url) { URL.revokeObjectURL(url); url = null; }
      preview.hidden = true;
      if (!file || input.dataset.prepared === file.name + "/" + file.size) { status.hidden = true; return; }
      status.hidden = false;
      status.textContent = input.dataset.msgPreparing || "";
      button.disabled = true;
      pending = window.EvercoldPhotos.prepare(file).then(function (ready) {
        if (ready !== file) {
          var swap = new DataTransfer();
          swap.items.add(ready);
          input.dataset.prepared = ready.name + "/" + ready.size;
          input.files = swap.files;
        }
        url = URL.createObjectURL(ready);
        preview.src = url;
        preview.hidden = false;
        var mb = (ready.size / 1048576).toLocaleString(document.documentElement.lang || undefined,
          { minimumFractionDigits: 1, maximumFractionDigits: 1 });
        status.textContent = (input.dataset.msgReady || "").split("{size}").join(mb);
      }).catch(function () {
        status.hidden = true;
      }).then(function () { button.disabled = false; pending = null; });
    });
  }

  var print = document.getElementById("print-report");
  if (print) print.addEventListener("click", function () { window.print(); });

  // --- reporting a problem ----------------------------------------------------------
  // The form is sent from here: photos shrunk on the phone first (photo-prepare.js), a
  // progress bar per photo, and a refusal answered by the server's own form (every
  // field kept) swapped in around the photos the phone still holds. Until the report
  // is in, a draft stays on this phone: the fields in localStorage, the shrunk photos
  // in IndexedDB, both under the user's own key; a lost connection loses nothing.
  var report = document.getElementById("report-form");
  if (report && window.EvercoldPhotos && window.FormData && window.XMLHttpRequest) initReport(report);

  function initReport(firstForm) {
    var box = document.getElementById("report-photos");
    var input = document.getElementById("report-photo-input");
    var list = document.getElementById("report-photo-list");
    var template = document.getElementById("report-photo-item");
    var counter = box.querySelector(".photo-count");
    var max = parseInt(box.dataset.max || "5", 10);
    var key = firstForm.dataset.draftKey;
    var WEEK = 7 * 24 * 3600 * 1000;
    var photos = [];
    var sending = false;
    var saveTimer = null;

    function form() { return document.getElementById("report-form"); }

    function text(el, name, vars) {
      var out = el.dataset[name] || "";
      Object.keys(vars || {}).forEach(function (k) { out = out.split("{" + k + "}").join(vars[k]); });
      return out;
    }

    // Sizes in the page's language ("1,4 МБ"): the unit's words come from the page.
    function megabytes(size) {
      var lang = document.documentElement.lang || undefined;
      if (size < 1048576) return text(box, "msgKb", { n: Math.max(1, Math.round(size / 1024)).toLocaleString(lang) });
      return text(box, "msgMb", { n: (size / 1048576).toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
    }

    // --- the draft: fields in localStorage, photos in IndexedDB --------------------
    function fields() {
      var f = form();
      var value = function (name) { var el = f.elements[name]; return el ? el.value : ""; };
      var priority = f.querySelector("input[name=priority]:checked");
      return { branchId: value("branchId"), categoryId: value("categoryId"), subcategoryId: value("subcategoryId"),
               description: value("description"), priority: priority ? priority.value : "" };
    }

    function saveFields() {
      try { localStorage.setItem(key, JSON.stringify({ savedAt: Date.now(), fields: fields() })); } catch (e) { /* full or private */ }
    }

    function loadFields() {
      try {
        var draft = JSON.parse(localStorage.getItem(key) || "null");
        return draft && Date.now() - draft.savedAt < WEEK ? draft.fields : null;
      } catch (e) { return null; }
    }

    function photoStore(mode, work) {
      return new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var open = indexedDB.open("evercold-drafts", 1);
        open.onupgradeneeded = function () {
          open.result.createObjectStore("photos", { keyPath: "id" }).createIndex("draft", "draft");
        };
        open.onerror = function () { reject(open.error); };
        open.onsuccess = function () {
          var db = open.result;
          var tx = db.transaction("photos", mode);
          var request = work(tx.objectStore("photos"));
          tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
          tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
        };
      });
    }

    function keepPhoto(p) {
      return photoStore("readwrite", function (store) {
        return store.put({ id: key + "/" + p.id, draft: key, order: p.order, name: p.name, blob: p.blob, savedAt: Date.now() });
      }).catch(function () {});
    }

    function dropPhoto(p) {
      return photoStore("readwrite", function (store) { return store.delete(key + "/" + p.id); }).catch(function () {});
    }

    function keptPhotos() {
      return photoStore("readonly", function (store) { return store.index("draft").getAll(key); })
        .then(function (rows) {
          return (rows || []).filter(function (r) { return Date.now() - r.savedAt < WEEK; })
            .sort(function (a, b) { return a.order - b.order; });
        }).catch(function () { return []; });
    }

    function clearDraft() {
      try { localStorage.removeItem(key); } catch (e) { /* private mode */ }
      return keptPhotos().then(function (rows) {
        if (!rows.length) return;
        return photoStore("readwrite", function (store) {
          rows.forEach(function (r) { store.delete(r.id); });
        }).catch(function () {});
      });
    }

    // --- the photos ---------------------------------------------------------------
    // The script holds the photos: a plain "Take or choose photos" button instead of the
    // browser's "No file chosen", which would be wrong once photos are listed.
    var pick = box.querySelector(".rp-pick");
    box.classList.add("rp-js");
    if (pick) pick.hidden = false;

    function showCount(extra) {
      var n = photos.length;
      input.disabled = n >= max;
      if (pick) pick.classList.toggle("is-disabled", n >= max);
      counter.textContent = extra || (n ? text(box, "msgCount" + n, { n: n, max: max }) : "");
      counter.classList.toggle("field-error", !!extra);
    }

    function ready(p, blob) {
      p.blob = blob;
      p.bar.value = 0;
      p.status.textContent = text(box, "msgReady", { size: megabytes(blob.size) });
      if (!p.thumb.getAttribute("src") && !p.thumb.classList.contains("is-broken")) p.thumb.src = URL.createObjectURL(blob);
      p.prepared = Promise.resolve(blob);
    }

    function addPhoto(file, kept) {
      var p = { id: kept ? kept.id.split("/").pop() : Date.now().toString(36) + Math.random().toString(36).slice(2, 8),
                name: file.name || "photo.jpg", order: kept ? kept.order : Date.now() + photos.length };
      p.el = template.content.firstElementChild.cloneNode(true);
      p.bar = p.el.querySelector("progress");
      p.status = p.el.querySelector(".rp-status");
      p.thumb = p.el.querySelector(".rp-thumb");
      p.thumb.addEventListener("error", function () { p.thumb.classList.add("is-broken"); });
      p.el.querySelector(".rp-name").textContent = p.name;
      p.el.querySelector(".rp-remove").addEventListener("click", function () {
        if (sending) return;
        p.removed = true;
        p.el.remove();
        photos.splice(photos.indexOf(p), 1);
        dropPhoto(p);
        showCount();
      });
      list.appendChild(p.el);
      photos.push(p);
      if (kept) { ready(p, file); return; }
      p.bar.removeAttribute("value"); // indeterminate while shrinking
      p.status.textContent = text(box, "msgPreparing");
      p.prepared = window.EvercoldPhotos.prepare(file).then(function (blob) {
        if (!p.removed) { ready(p, blob); keepPhoto(p); }
        return blob;
      });
    }

    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var room = Math.max(0, max - photos.length);
      files.slice(0, room).forEach(function (file) { addPhoto(file); });
      input.value = ""; // the photos are held here, not in the input
      showCount(files.length > room ? text(box, "msgTooMany", { max: max }) : "");
      saveFields();
    });

    // --- sending ------------------------------------------------------------------
    function progress(sizes, loaded, total) {
      var start = total - sizes.reduce(function (a, b) { return a + b; }, 0); // the fields go first
      photos.forEach(function (p, i) {
        var pct = Math.max(0, Math.min(100, Math.round(((loaded - start) / sizes[i]) * 100)));
        start += sizes[i];
        p.bar.value = pct;
        p.status.textContent = pct >= 100 ? text(box, "msgSent") : text(box, "msgSending", { pct: pct });
      });
    }

    function idle(f, message) {
      sending = false;
      photos.forEach(function (p) { if (p.blob) ready(p, p.blob); });
      var button = f.querySelector("button[type=submit]");
      if (button && button.dataset.idleText) { button.disabled = false; button.textContent = button.dataset.idleText; }
      var note = document.getElementById("report-client-message");
      if (note && message) {
        note.setAttribute("role", "alert");
        note.textContent = message;
        note.hidden = false;
        note.scrollIntoView({ block: "center" });
      }
    }

    function swapIn(f, html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("report-form");
      if (!fresh) return false;
      var freshBox = fresh.querySelector("#report-photos");
      var old = box.querySelector(":scope > .field-error");
      if (old) old.remove();
      var error = freshBox && freshBox.querySelector(":scope > .field-error");
      if (error) box.insertBefore(document.importNode(error, true), template);
      box.classList.toggle("has-error", !!error);
      fresh = document.importNode(fresh, true);
      var nojs = fresh.querySelector(".rp-nojs");
      if (nojs) nojs.remove();
      if (fresh.querySelector("#report-photos")) fresh.querySelector("#report-photos").replaceWith(box);
      f.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      var message = fresh.querySelector("#report-message");
      if (message) message.scrollIntoView({ block: "center" });
      sending = false;
      photos.forEach(function (p) { if (p.blob) ready(p, p.blob); });
      return true;
    }

    function send(f) {
      sending = true;
      saveFields();
      var note = document.getElementById("report-client-message");
      if (note) { note.hidden = true; note.removeAttribute("role"); }
      var button = f.querySelector("button[type=submit]");
      if (button) {
        button.dataset.idleText = button.dataset.idleText || button.textContent;
        button.disabled = true;
        button.textContent = button.dataset.busyText || button.textContent;
      }
      var data = new FormData(f);
      data.delete("photos");
      Promise.all(photos.map(function (p) { return p.prepared; })).then(function (blobs) {
        blobs.forEach(function (blob, i) { data.append("photos", blob, blob.name || photos[i].name); });
        var sizes = blobs.map(function (b) { return b.size; });
        var xhr = new XMLHttpRequest();
        xhr.open("POST", f.getAttribute("action") || window.location.pathname + window.location.search);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.timeout = 300000;
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress(sizes, e.loaded, e.total); };
        xhr.onload = function () {
          var url = xhr.responseURL || "";
          if (xhr.status < 400 && url.indexOf("created=1") !== -1) { // the report is in
            clearDraft().then(function () { window.location.assign(url); });
            return;
          }
          if (swapIn(f, xhr.responseText)) return; // refused: the server's form, every field kept
          if (xhr.status < 400 && url) { window.location.assign(url); return; } // e.g. signed out: the draft waits
          idle(f, f.dataset.msgFailed);
        };
        xhr.onerror = xhr.ontimeout = xhr.onabort = function () { idle(f, f.dataset.msgOffline); };
        xhr.send(data);
      });
    }

    // Capture phase: before the generic busy-button handler, which then stands aside.
    document.addEventListener("submit", function (e) {
      var f = e.target;
      if (!f || f.id !== "report-form") return;
      e.preventDefault();
      if (!sending) send(f);
    }, true);

    document.addEventListener("input", function (e) {
      if (!e.target.closest || !e.target.closest("#report-form") || e.target === input) return;
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveFields, 300);
    });
    document.addEventListener("change", function (e) {
      if (e.target.closest && e.target.closest("#report-form") && e.target !== input) saveFields();
    });

    document.addEventListener("click", function (e) {
      if (!e.target.closest || !e.target.closest("[data-draft-discard]")) return;
      clearDraft().then(function () { window.location.assign(window.location.pathname); });
    });

    // --- a draft left on this phone comes back --------------------------------------
    function restoreFields(draft) {
      var f = form();
      var changed = false;
      function set(name, value) {
        var el = f.elements[name];
        if (!el || !value || el.value === value) return;
        if (el.tagName === "SELECT" && !el.querySelector('option[value="' + CSS.escape(value) + '"]')) return;
        el.value = value;
        changed = true;
      }
      set("branchId", draft.branchId);
      set("description", draft.description);
      if (draft.priority) {
        var radio = f.querySelector('input[name=priority][value="' + CSS.escape(draft.priority) + '"]');
        if (radio && !radio.checked) { radio.checked = true; changed = true; }
      }
      var category = f.elements.categoryId;
      var done = Promise.resolve();
      if (category && draft.categoryId && category.value !== draft.categoryId &&
          category.querySelector('option[value="' + CSS.escape(draft.categoryId) + '"]')) {
        category.value = draft.categoryId;
        changed = true;
        if (window.htmx) {
          var url = category.getAttribute("hx-get") + "?categoryId=" + encodeURIComponent(draft.categoryId) +
            "&subcategoryId=" + encodeURIComponent(draft.subcategoryId || "");
          done = window.htmx.ajax("GET", url, { target: "#subcategory-field", swap: "outerHTML" });
        }
      } else {
        set("subcategoryId", draft.subcategoryId);
      }
      return done.then(function () { return changed; });
    }

    var draft = document.getElementById("report-message") ? null : loadFields();
    var hadText = !!(draft && draft.description && draft.description.trim());
    Promise.all([draft ? restoreFields(draft) : Promise.resolve(false), keptPhotos()]).then(function (r) {
      var rows = r[1];
      rows.slice(0, max).forEach(function (row) {
        var file = row.blob instanceof File ? row.blob : new File([row.blob], row.name, { type: row.blob.type });
        addPhoto(file, row);
      });
      showCount();
      if ((r[0] && hadText) || rows.length) {
        document.getElementById("draft-note").hidden = false;
      }
    });
  }
})();
