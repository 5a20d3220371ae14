// A form marked `data-autosubmit` is sent as soon as the page has loaded (the logout
// message a provider takes by post); without scripts, its button sends it.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
})();
