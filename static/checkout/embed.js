// Wallet checkout, merchant side. Load it from the portal and mark a container:
//
//   <div data-wallet-checkout data-src="<session embed_url>"
//        data-portal-origin="https://portal.example"></div>
//
// It frames the checkout, sizes the frame, and re-dispatches the checkout's
// messages as "wallet-checkout" DOM events on the container, after checking
// that they really come from the portal. Confirm the payment on your server
// (GET /api/checkout/sessions/<id> or the webhook) before fulfilling.
(function () {
  "use strict";
  var SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups " +
    "allow-popups-to-escape-sandbox";

  function mount(container) {
    if (container.dataset.walletCheckoutMounted) { return; }
    container.dataset.walletCheckoutMounted = "1";
    var origin = container.dataset.portalOrigin;
    var frame = document.createElement("iframe");
    frame.src = container.dataset.src;
    frame.title = "Pay with wallet";
    frame.setAttribute("sandbox", SANDBOX);
    frame.style.width = "100%";
    frame.style.maxWidth = "32rem";
    frame.style.border = "0";
    frame.style.height = "320px";
    container.appendChild(frame);

    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
      var data = event.data || {};
      if (typeof data.type !== "string" || data.type.indexOf("wallet-checkout:") !== 0) { return; }
      if (data.type === "wallet-checkout:resize" && typeof data.height === "number") {
        frame.style.height = Math.min(Math.max(data.height, 120), 2000) + "px";
      }
      container.dispatchEvent(new CustomEvent("wallet-checkout", {
        detail: { type: data.type, sessionId: data.sessionId, origin: event.origin },
      }));
    });
  }

  function mountAll() {
    document.querySelectorAll("[data-wallet-checkout]").forEach(mount);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
