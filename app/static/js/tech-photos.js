// The complete page's photos: each chosen file is downscaled in the browser when it is
// large (photo-prepare.js: canvas, 2048 px, JPEG 0.85), uploaded at once with a progress bar, and
// replaced by the server's thumbnail fragment. A failed upload keeps its file and can
// be retried; nothing else on the form is touched. The server always re-processes.
(function () {
  "use strict";

  var panel = document.getElementById("photos");
  if (!panel) return;
  var form = panel.closest("form");
  var input = document.getElementById("photo-input");
  var caption = document.getElementById("photo-caption");
  var uploads = document.getElementById("uploads");
  var list = document.getElementById("photo-list");
  var template = document.getElementById("upload-item");
  var pending = 0;

  function setPending(delta) {
    pending += delta;
    if (form) {
      form.dataset.uploading = String(pending);
      if (pending === 0) {
        var note = form.querySelector("[data-submit-note]");
        if (note) note.hidden = true;
      }
    }
  }

  function currentTag() {
    var checked = panel.querySelector("input[name=photoTag]:checked");
    return checked ? checked.value : "work";
  }

  // Large photos are scaled down on the phone (photo-prepare.js, shared with the
  // store's report form).
  var prepare = window.EvercoldPhotos.prepare;

  // The words people read come from the page, in their language (data-msg-* on the panel).
  function say(name, vars) {
    var out = panel.dataset[name] || "";
    Object.keys(vars || {}).forEach(function (k) { out = out.split("{" + k + "}").join(vars[k]); });
    return out;
  }

  function messageFor(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status >= 400 && xhr.status < 500 && type.indexOf("text/plain") === 0 && xhr.responseText) {
      return xhr.responseText;
    }
    if (xhr.status === 413) return say("msgTooLarge");
    if (xhr.status === 400) return say("msgRefused");
    return say("msgServer", { code: xhr.status });
  }

  function Upload(file, tag, text) {
    this.file = file;
    this.tag = tag;
    this.caption = text;
    this.prepared = null;
    this.el = template.content.firstElementChild.cloneNode(true);
    var choice = panel.querySelector("input[name=photoTag][value='" + tag + "'] + span");
    this.el.querySelector(".upload-tag").textContent = choice ? choice.textContent : "";
    this.el.querySelector(".upload-tag").classList.add("tag-" + tag);
    this.el.querySelector(".upload-name").textContent = file.name || "photo";
    this.bar = this.el.querySelector("progress");
    this.status = this.el.querySelector(".upload-status");
    this.retryBtn = this.el.querySelector(".upload-retry");
    this.discardBtn = this.el.querySelector(".upload-discard");
    var self = this;
    this.retryBtn.addEventListener("click", function () { self.start(); });
    this.discardBtn.addEventListener("click", function () { self.el.remove(); });
    uploads.appendChild(this.el);
  }

  Upload.prototype.fail = function (message, retryable) {
    this.el.classList.add("upload-failed");
    this.status.textContent = message;
    this.retryBtn.hidden = !retryable;
    this.discardBtn.hidden = false;
    setPending(-1);
  };

  Upload.prototype.start = function () {
    var self = this;
    setPending(1);
    this.el.classList.remove("upload-failed");
    this.retryBtn.hidden = true;
    this.discardBtn.hidden = true;
    this.bar.removeAttribute("value"); // indeterminate while preparing
    this.status.textContent = say("msgPreparing");
    var ready = this.prepared ? Promise.resolve(this.prepared) : prepare(this.file);
    ready.then(function (blob) {
      self.prepared = blob;
      self.send(blob);
    });
  };

  Upload.prototype.send = function (blob) {
    var self = this;
    var data = new FormData();
    data.append("file", blob, blob.name || this.file.name || "photo.jpg");
    data.append("type", this.tag);
    if (this.caption) data.append("caption", this.caption);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", panel.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", panel.getAttribute("data-csrf"));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.timeout = 120000;
    this.bar.value = 0;
    this.status.textContent = say("msgUploading", { pct: 0 });
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      self.bar.value = pct;
      self.status.textContent = pct < 100 ? say("msgUploading", { pct: pct }) : say("msgProcessing");
    };
    xhr.onload = function () {
      if (xhr.status === 201) {
        self.bar.value = 100;
        list.insertAdjacentHTML("beforeend", xhr.responseText);
        var added = list.lastElementChild;
        if (added && window.htmx) window.htmx.process(added);
        self.el.remove();
        setPending(-1);
        panel.classList.remove("photos-missing");
        return;
      }
      // Server trouble is worth another try; a refused file is not.
      self.fail(messageFor(xhr), xhr.status >= 500 || xhr.status === 408 || xhr.status === 429);
    };
    xhr.onerror = function () { self.fail(say("msgNetwork"), true); };
    xhr.ontimeout = function () { self.fail(say("msgTimeout"), true); };
    xhr.onabort = function () { self.fail(say("msgAborted"), true); };
    xhr.send(data);
  };

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    var tag = currentTag();
    var text = caption.value.trim();
    files.forEach(function (file) { new Upload(file, tag, text).start(); });
    input.value = ""; // the same photo can be chosen again
    if (files.length) caption.value = "";
  });
})();
