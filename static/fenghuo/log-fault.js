/* Log a fault: show the chosen category's criteria under each level, and fetch the
 * server-rendered preview of who will be told whenever category or level changes.
 * Without JavaScript the form still works: all criteria show and a button asks the
 * server for the preview. Plain DOM, no library. */
(function () {
  "use strict";

  function checked(form, name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function showCriteria(form, category) {
    form.querySelectorAll(".criteria[data-category]").forEach(function (el) {
      el.hidden = Boolean(category) && el.dataset.category !== category;
    });
  }

  var pending = null;

  function refreshPreview(form) {
    var category = checked(form, "category"), level = checked(form, "level");
    var region = document.getElementById("preview");
    if (!region || !category || !level) return;
    if (pending) pending.abort();
    pending = new AbortController();
    var url = form.dataset.previewUrl + "?category=" + encodeURIComponent(category) +
      "&level=" + encodeURIComponent(level);
    region.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", signal: pending.signal })
      .then(function (response) { return response.text(); })
      .then(function (html) { region.innerHTML = html; })
      .catch(function () { /* keep the last preview; the no-JS button still works */ })
      .then(function () { region.removeAttribute("aria-busy"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("log-fault");
    if (!form) return;
    document.documentElement.classList.add("js");
    showCriteria(form, checked(form, "category"));
    form.addEventListener("change", function (event) {
      var name = event.target.name;
      if (name === "category") showCriteria(form, event.target.value);
      if (name === "category" || name === "level") refreshPreview(form);
      if (name === "category" && !checked(form, "level")) {
        var levels = document.getElementById("field-level");
        if (levels) levels.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
})();
