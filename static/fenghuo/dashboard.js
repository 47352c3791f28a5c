/* The live dashboard: polls the server-rendered fragment every 2 s (live.js: ETag → 304
 * when nothing changed) and ticks ages and countdowns from absolute ISO times,
 * so an unchanged fragment never shows stale numbers. Plain fetch, no library. */
(function () {
  "use strict";
  var region, t;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return h + ":" + pad(m) + ":" + pad(s);
  }

  function age(seconds) {
    var minutes = Math.floor(Math.max(0, seconds) / 60);
    if (minutes < 60) return minutes + " " + t.tMin;
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " " + t.tH + " " + (minutes % 60) + " " + t.tMin;
    return Math.floor(hours / 24) + " " + t.tD + " " + (hours % 24) + " " + t.tH;
  }

  function tick() {
    var now = Date.now();
    region.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      var late = left < 0;
      el.textContent = (late ? t.tLate : t.tLeft).replace("{time}", clock(left));
      el.classList.toggle("overdue", late);
      var row = el.closest("tr");
      if (row) row.classList.toggle("has-overdue", late);
    });
    region.querySelectorAll("[data-since]").forEach(function (el) {
      var seconds = (now - Date.parse(el.dataset.since)) / 1000;
      var text = age(seconds);
      if (el.dataset.decideBy && now >= Date.parse(el.dataset.decideBy)) {
        el.classList.add("overdue");
        text += " · " + t.tWaitingOverdue;
      }
      el.textContent = text;
    });
  }

  function setConnection(ok) {
    var el = document.getElementById("connection");
    if (!el) return;
    el.textContent = ok ? el.dataset.tLive + " · " + new Date().toLocaleTimeString() : el.dataset.tLost;
    el.classList.toggle("lost", !ok);
  }

  function swapped() {
    tick();
    if (window.fenghuoAlarmCheck) window.fenghuoAlarmCheck(document.getElementById("dashboard-fragment"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    region = document.getElementById("dashboard-region");
    if (!region) return;
    t = region.dataset;
    swapped();
    window.setInterval(tick, 1000);
    window.fenghuoLive.poll({
      url: region.dataset.fragmentUrl, etag: region.dataset.etag,
      intervalMs: parseInt(region.dataset.pollMs || "2000", 10),
      pauseWhenHidden: false,  // the alarm must sound on a screen whose tab is in the background too
      onState: setConnection,
      onChange: function (html, etag) {
        region.setAttribute("aria-busy", "true");
        region.innerHTML = html;
        region.removeAttribute("aria-busy");
        region.dataset.etag = etag;
        swapped();
      },
    });
  });
})();
