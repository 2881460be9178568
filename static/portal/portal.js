/* Portal behaviour that must live in a static file under the Content Security Policy. */
(function () {
  "use strict";

  /* After an htmx swap, move focus to the first error summary or the element marked
     data-autofocus-on-swap so keyboard and screen-reader users land on the new content. */
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelector) { return; }
    var focusTarget = target.querySelector("[data-focus-on-swap]");
    if (focusTarget) { focusTarget.focus(); }
  });
})();
