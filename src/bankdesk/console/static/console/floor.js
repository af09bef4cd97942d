// The supervisor floor refreshes itself every 15 seconds while nobody is choosing in it.
(function () {
  "use strict";
  const floor = document.getElementById("floor");
  if (!floor) return;
  setInterval(() => {
    if (floor.contains(document.activeElement) && document.activeElement !== document.body) return;
    fetch(floor.dataset.refresh, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => { if (html !== null) floor.innerHTML = html; })
      .catch(() => {});
  }, 15000);
})();
