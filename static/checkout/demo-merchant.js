// The demo merchant page: show the checkout's messages and confirm with the
// merchant's server once the checkout says it is complete.
(function () {
  "use strict";
  var container = document.getElementById("checkout-container");
  if (!container) { return; }
  var list = document.getElementById("events");
  var status = document.getElementById("server-status");

  container.addEventListener("wallet-checkout", function (event) {
    var detail = event.detail;
    if (detail.type === "wallet-checkout:resize") { return; }
    var item = document.createElement("li");
    item.textContent = detail.type + " from " + detail.origin;
    list.appendChild(item);
    if (detail.type === "wallet-checkout:completed" || detail.type === "wallet-checkout:expired") {
      fetch(container.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { status.textContent = data.status; });
    }
  });
})();
