// The popup window after paying or cancelling: tell the iframe that opened
// it (same origin as this page) and close.
(function () {
  "use strict";
  var root = document.getElementById("wallet-checkout-popup");
  if (!root) { return; }
  if (root.dataset.outcome === "cancelled" && window.opener) {
    try {
      window.opener.postMessage(
        { type: "wallet-checkout:popup-cancelled", sessionId: root.dataset.sessionId },
        window.location.origin
      );
    } catch (e) { /* the opener went away */ }
  }
  if (window.opener) {
    window.setTimeout(function () { window.close(); }, 1500);
  }
})();
