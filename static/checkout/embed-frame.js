// Runs inside the checkout iframe. Talks to the merchant page only through
// postMessage to the session's registered origin, never "*".
(function () {
  "use strict";
  var root = document.getElementById("wallet-checkout");
  if (!root) { return; }
  var sessionId = root.dataset.sessionId;
  var origin = root.dataset.embedOrigin;
  var popupUrl = root.dataset.popupUrl;
  var sent = {};

  function post(type, extra) {
    if (!window.parent || window.parent === window) { return; }
    var message = Object.assign({ type: type, sessionId: sessionId }, extra || {});
    window.parent.postMessage(message, origin);
  }

  function resize() {
    post("wallet-checkout:resize", { height: document.documentElement.scrollHeight });
  }

  function reportTerminal() {
    var marker = document.querySelector("[data-wallet-checkout-event]");
    if (!marker) { return; }
    var type = marker.getAttribute("data-wallet-checkout-event");
    if (!sent[type]) {
      sent[type] = true;
      post(type);
    }
    resize();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("#continue-with-wallet");
    if (!link) { return; }
    // A top-level popup: first-party cookies, login and MFA work there. If it
    // is blocked, the "open in a new tab" link below the button still works.
    event.preventDefault();
    window.open(popupUrl, "wallet-checkout", "popup,width=480,height=720");
  });

  // The popup tells us when the customer cancelled there.
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data) { return; }
    if (event.data.type === "wallet-checkout:popup-cancelled" && event.data.sessionId === sessionId) {
      post("wallet-checkout:cancelled");
    }
  });

  document.body.addEventListener("htmx:afterSwap", reportTerminal);
  document.body.addEventListener("htmx:responseError", function () {
    post("wallet-checkout:error");
  });
  post("wallet-checkout:ready");
  resize();
  reportTerminal();
})();
