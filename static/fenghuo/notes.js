/* The note form: an attachment over the limit is refused before it is sent (a phone on a slow line would
 * otherwise upload megabytes only to be told no). The server checks again; this only saves the wait. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("note-file");
    if (!input) return;
    var max = parseInt(input.dataset.maxBytes, 10);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.setCustomValidity(file && file.size > max ? input.dataset.tooBig : "");
      if (file && file.size > max) input.reportValidity();
    });
  });
})();
