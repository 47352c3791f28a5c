// Every page: behaviour that used to be inline handlers (the Content-Security-Policy allows no inline script),
// the live bell and the lists that update themselves (static/fenghuo/live.js polls).
(function () {
  "use strict";
  // The language menu submits its form as soon as a language is picked (the <noscript> button does it otherwise).
  var select = document.getElementById("lang-select");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }

  var TITLE_PREFIX = /^\(\d+\) /;

  // The tab title says how many notifications are unread: "(3) Dashboard · …".
  function showUnread(count) {
    document.querySelectorAll("[data-bell-count]").forEach(function (el) { el.textContent = String(count); });
    var plain = document.title.replace(TITLE_PREFIX, "");
    document.title = count > 0 ? "(" + count + ") " + plain : plain;
  }

  var bell = document.querySelector("[data-bell-url]");
  if (bell && window.fenghuoLive) {
    var pollMs = parseInt(bell.dataset.pollMs || "10000", 10);
    showUnread(parseInt(bell.querySelector("[data-bell-count]").textContent, 10) || 0);
    window.fenghuoLive.poll({
      url: bell.dataset.bellUrl, intervalMs: pollMs, json: true,
      onChange: function (state) { showUnread(state.unread); },
    });

    // A region with data-live-url (the notification list, the incident list) swaps in its server-rendered
    // fragment when it changes.
    document.querySelectorAll("[data-live-url]").forEach(function (region) {
      window.fenghuoLive.poll({
        url: region.dataset.liveUrl, intervalMs: pollMs,
        onChange: function (html) {
          region.setAttribute("aria-busy", "true");
          region.innerHTML = html;
          region.removeAttribute("aria-busy");
        },
      });
    });
  }
})();
