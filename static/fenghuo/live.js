/* The one live mechanism: poll a URL with If-None-Match; an unchanged answer is a 304 of one query.
 * Used by the dashboard (dashboard.js), the bell on every page and the lists that update themselves
 * (base.js). A 401 or 403 (the session expired) reloads the page, which then shows the login page.
 * Plain fetch, no library.
 *
 *   window.fenghuoLive.poll({url, etag, intervalMs, json, pauseWhenHidden, onChange(body, etag), onState(ok)})
 *
 * pauseWhenHidden (default true) stops polling in a hidden tab and polls at once when it is shown again;
 * the dashboard turns it off, because its alarm must sound in a background tab too. */
(function () {
  "use strict";

  function poll(options) {
    var etag = options.etag || "", timer = null, running = false;
    var pause = options.pauseWhenHidden !== false;

    function schedule(ms) {
      window.clearTimeout(timer);
      timer = window.setTimeout(once, ms);
    }

    function state(ok) { if (options.onState) options.onState(ok); }

    function once() {
      if (running || (pause && document.hidden)) return;  // a hidden tab resumes on visibilitychange
      running = true;
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(options.url, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) { window.location.reload(); return null; }
          if (response.status === 304) { state(true); return null; }
          if (!response.ok) throw new Error("HTTP " + response.status);
          etag = response.headers.get("ETag") || "";
          return options.json ? response.json() : response.text();
        })
        .then(function (body) {
          if (body === null || body === undefined) return;
          options.onChange(body, etag);
          state(true);
        })
        .catch(function () { state(false); })
        .then(function () { running = false; schedule(options.intervalMs); });
    }

    if (pause) {
      document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(0); });
    }
    schedule(options.intervalMs);
    return { now: function () { schedule(0); } };
  }

  window.fenghuoLive = { poll: poll };
})();
