/* The calendar form's week grid, quicker with JavaScript (it works without: every
   slot shows, and the copy buttons redraw the form on the server). Here: empty second
   and third intervals hide behind "+ Add interval", "Closed" hides a day's times, and
   the copy buttons copy Monday in the page. */
(function () {
  "use strict";
  var form = document.querySelector("[data-calendar-form]");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-day]"));
  var status = form.querySelector("[data-week-status]");

  function slots(row) { return Array.prototype.slice.call(row.querySelectorAll("[data-slot]")); }
  function empty(slot) { return Array.prototype.every.call(slot.querySelectorAll("input"), function (i) { return !i.value; }); }

  function sync(row) {
    var closed = row.querySelector("[data-closed]").checked;
    row.classList.toggle("is-closed", closed);
    var hidden = 0;
    slots(row).forEach(function (slot, i) {
      var hide = i > 0 && empty(slot) && !slot.dataset.shown;
      slot.hidden = hide;
      if (hide) hidden += 1;
    });
    row.querySelector("[data-add-slot]").hidden = hidden === 0;
  }

  rows.forEach(function (row) {
    row.querySelector("[data-closed]").addEventListener("change", function () {
      var first = slots(row)[0].querySelectorAll("input");
      if (!this.checked && !first[0].value && !first[1].value) { first[0].value = "08:00"; first[1].value = "20:00"; }
      sync(row);
    });
    row.querySelector("[data-add-slot]").addEventListener("click", function () {
      var next = slots(row).filter(function (s) { return s.hidden; })[0];
      if (!next) return;
      next.dataset.shown = "1";
      sync(row);
      next.querySelector("input").focus();
    });
    sync(row);
  });

  function copyMonday(targets) {
    var monday = rows[0];
    var from = slots(monday).map(function (s) { return Array.prototype.map.call(s.querySelectorAll("input"), function (i) { return i.value; }); });
    var closed = monday.querySelector("[data-closed]").checked;
    targets.forEach(function (row) {
      slots(row).forEach(function (slot, i) {
        var inputs = slot.querySelectorAll("input");
        inputs[0].value = from[i][0]; inputs[1].value = from[i][1];
        if (from[i][0] || from[i][1]) slot.dataset.shown = "1"; else delete slot.dataset.shown;
      });
      row.querySelector("[data-closed]").checked = closed;
      sync(row);
    });
  }

  // The typed zone only when "Another timezone" is chosen.
  var zone = form.querySelector("[data-zone]");
  var other = form.querySelector("[data-zone-other]");
  if (zone && other) {
    var showOther = function () { other.hidden = zone.value !== ""; };
    zone.addEventListener("change", function () { showOther(); if (!other.hidden) other.focus(); });
    showOther();
  }

  Array.prototype.forEach.call(form.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var all = button.dataset.copy === "all";
      var targets = rows.slice(1).filter(function (row, i) {
        return all ? !row.querySelector("[data-closed]").checked : i < 4;
      });
      copyMonday(targets);
      if (status) status.textContent = button.textContent.trim() + " ✓";
    });
  });
})();
