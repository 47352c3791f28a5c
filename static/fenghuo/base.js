// Every page: behaviour that used to be inline handlers (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // The language menu submits its form as soon as a language is picked (the <noscript> button does it otherwise).
  var select = document.getElementById("lang-select");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
})();
