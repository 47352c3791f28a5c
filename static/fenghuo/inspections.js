// Walking an inspection round on a phone: every answer is sent to the server as it is given, and kept on the
// phone until the server has it, so a poor connection or a reload loses nothing. Readings outside their normal
// range are flagged as they are typed. The form still submits without this script (inspections/views.py).
(function () {
  "use strict";
  var form = document.querySelector("form.walk");
  if (!form || form.hasAttribute("data-readonly")) { return; }
  // The page's words, in the reader's language, as data attributes (no inline script: the CSP forbids it).
  var texts = document.getElementById("inspection-texts").dataset;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var storeKey = "fenghuo-round-" + form.dataset.round;
  var pending = {};  // "asset|check" -> answer not yet kept by the server
  var timers = {};
  var stateLine = form.querySelector("[data-save-state]");

  function load() {
    try { pending = JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { pending = {}; }
  }
  function store() {
    try {
      if (Object.keys(pending).length) { window.localStorage.setItem(storeKey, JSON.stringify(pending)); }
      else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode: the server copy is still the record */ }
  }
  function itemOf(asset, check) {
    return form.querySelector('[data-item][data-asset="' + CSS.escape(asset) + '"][data-check="' + CSS.escape(check) + '"]');
  }
  function say(item, text, cls) {
    var el = item && item.querySelector("[data-item-state]");
    if (el) { el.textContent = text; el.className = "item-state small " + (cls || ""); }
  }
  function summary() {
    var n = Object.keys(pending).length;
    stateLine.textContent = n ? texts.offline : texts.allKept;
    stateLine.classList.toggle("warning", n > 0);
  }

  function answerOf(item) {
    var answer = {asset: item.dataset.asset, check: item.dataset.check};
    var checked = item.querySelector("input[type=radio]:checked");
    if (checked) { answer.ok = checked.value === "true"; }
    var value = item.querySelector("input[name^=value-]");
    if (value) { answer.value = value.value.trim().replace(",", "."); }
    var text = item.querySelector("textarea[name^=text-]");
    if (text) { answer.text = text.value; }
    var note = item.querySelector("textarea[name^=note-]");
    if (note) { answer.note = note.value; }
    return answer;
  }

  // Flag as typed: not a number, or outside [data-min, data-max].
  function flag(item) {
    var input = item.querySelector("input[name^=value-]");
    var box = item.querySelector("[data-flag]");
    if (!input || !box) { return true; }
    var raw = input.value.trim().replace(",", ".");
    var bad = "";
    if (raw !== "") {
      var number = Number(raw);
      if (!isFinite(number)) { bad = texts.nan; }
      else if ((item.dataset.min !== undefined && number < Number(item.dataset.min)) ||
               (item.dataset.max !== undefined && number > Number(item.dataset.max))) { bad = texts.out; }
    }
    box.hidden = !bad;
    box.querySelector("[data-flag-text]").textContent = bad;
    item.classList.toggle("abnormal", bad === texts.out);
    input.setAttribute("aria-invalid", bad === texts.nan ? "true" : "false");
    return bad !== texts.nan;
  }

  function send(key, attempt) {
    var answer = pending[key];
    if (!answer) { return; }
    var item = itemOf(answer.asset, answer.check);
    say(item, texts.saving);
    fetch(form.dataset.answersUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify(answer),
    }).then(function (response) {
      if (response.ok) {
        if (pending[key] === answer) { delete pending[key]; store(); }
        say(item, texts.kept, "kept");
        return response.json().then(function (result) {
          if (item) { item.classList.toggle("abnormal", !!result.abnormal); }
        });
      }
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        // Refused (not a number, submitted already, another role's round): retrying would not help.
        delete pending[key]; store();
        return response.json().then(function (body) {
          var words = body.detail || Object.keys(body).map(function (k) { return [].concat(body[k]).join(" "); }).join(" ");
          say(item, texts.refused + ": " + words, "error");
        }, function () { say(item, texts.refused, "error"); });
      }
      throw new Error("HTTP " + response.status);
    }).catch(function () {
      say(item, texts.retry, "warning");
      var wait = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 5)));
      clearTimeout(timers[key]);
      timers[key] = setTimeout(function () { send(key, attempt + 1); }, wait);
    }).then(summary);
  }

  function queue(item, delay) {
    if (!flag(item)) { return; }  // not a number: flagged, not sent
    var answer = answerOf(item);
    var key = answer.asset + "|" + answer.check;
    pending[key] = answer;
    store();
    clearTimeout(timers[key]);
    timers[key] = setTimeout(function () { send(key, 0); }, delay);
  }

  form.querySelectorAll("[data-item]").forEach(function (item) {
    item.addEventListener("input", function (event) {
      if (event.target.type === "file") { return; }
      flag(item);
      queue(item, event.target.type === "radio" ? 0 : 600);
    });
    item.addEventListener("change", function (event) {
      if (event.target.type === "file") { upload(item, event.target); }
      else if (event.target.type !== "radio") { queue(item, 0); }
    });
  });

  function upload(item, input, attempt) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var data = new FormData();
    data.append("asset", item.dataset.asset);
    data.append("check", item.dataset.check);
    data.append("photo", file);
    say(item, texts.saving);
    fetch(form.dataset.photosUrl, {method: "POST", credentials: "same-origin", body: data,
                                   headers: {"X-CSRFToken": csrf, "Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) {
            say(item, texts.kept, "kept");
            input.value = "";  // kept on the server: the form's submit need not send it again
            var img = item.querySelector("[data-photo-thumb]");
            if (!img) {
              img = document.createElement("img");
              img.className = "photo-thumb"; img.setAttribute("data-photo-thumb", "");
              img.alt = item.dataset.asset;
              var p = document.createElement("p"); p.appendChild(img); input.parentNode.insertBefore(p, input);
            }
            img.src = body.photo + "?t=" + Date.now();
          } else if (response.status >= 500) {
            throw new Error("HTTP " + response.status);
          } else {
            say(item, texts.refused + ": " + (body.detail || [].concat(body.photo || []).join(" ")), "error");
          }
        });
      })
      .catch(function () {
        say(item, texts.retry, "warning");
        setTimeout(function () { upload(item, input, (attempt || 0) + 1); },
                   Math.min(30000, 1000 * Math.pow(2, Math.min(attempt || 0, 5))));
      });
  }

  // Answers given before a reload or a lost connection: put them back in the page and send them again.
  load();
  Object.keys(pending).forEach(function (key) {
    var answer = pending[key];
    var item = itemOf(answer.asset, answer.check);
    if (!item) { delete pending[key]; return; }
    if (answer.ok !== undefined) {
      var radio = item.querySelector('input[type=radio][value="' + (answer.ok ? "true" : "false") + '"]');
      if (radio) { radio.checked = true; }
    }
    [["value", "input[name^=value-]"], ["text", "textarea[name^=text-]"], ["note", "textarea[name^=note-]"]]
      .forEach(function (pair) {
        var el = item.querySelector(pair[1]);
        if (el && answer[pair[0]] !== undefined) { el.value = answer[pair[0]]; }
      });
    flag(item);
    send(key, 0);
  });
  store();
  summary();
  window.addEventListener("online", function () { Object.keys(pending).forEach(function (key) { send(key, 0); }); });
  form.addEventListener("submit", function () { pending = {}; store(); });
})();
