/* The incident page: count every pending deadline down from its absolute due time
 * (an ISO time in data-due), so the page never shows a stale number; on a phone, fold
 * the sections marked data-fold-on-phone. Plain DOM. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    var m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? d + "d " : "") + h + ":" + pad(m) + ":" + pad(s);
  }

  function tick(section) {
    var now = Date.now();
    section.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      var late = left < 0;
      el.textContent = (late ? section.dataset.tLate : section.dataset.tLeft).replace("{time}", clock(left));
      el.classList.toggle("overdue", late);
      var row = el.closest("tr");
      if (row) row.classList.toggle("overdue-row", late);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the page starts with the actions: what only needs reading now and then starts folded.
    if (window.matchMedia && window.matchMedia("(max-width: 600px)").matches) {
      document.querySelectorAll("details[data-fold-on-phone]").forEach(function (el) { el.open = false; });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("deadlines");
    if (!section || !section.querySelector("[data-due]")) return;
    tick(section);
    window.setInterval(function () { tick(section); }, 1000);
  });
})();
