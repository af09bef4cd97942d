// The supervisor floor: read again when the staff socket says a case or someone's presence
// changed (console.js passes it on as "bankdesk:queue-changed"), and every minute besides.
// While a supervisor is choosing in it (a reassignment), the refresh waits until they are done.
(function () {
  "use strict";
  const floor = document.getElementById("floor");
  if (!floor) return;
  let waiting = false;
  function choosing() {
    return floor.contains(document.activeElement) && document.activeElement !== document.body;
  }
  function refresh() {
    if (choosing()) { waiting = true; return; }
    waiting = false;
    fetch(floor.dataset.refresh, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html === null) return;
        floor.innerHTML = html;
        floor.dataset.refreshed = String(Date.now());
      })
      .catch(() => {});
  }
  document.addEventListener("bankdesk:queue-changed", refresh);
  floor.addEventListener("focusout", () => { if (waiting) setTimeout(refresh, 0); });
  setInterval(refresh, 60000);
})();
