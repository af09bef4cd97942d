// The wallboard: read the figures again every few seconds and put them in place, tick the clock,
// and say so plainly when the figures stop coming (the numbers on the wall are then old), until
// they come again. Plain script, no build step; the page shows its first figures without it.
(function () {
  "use strict";
  const board = document.getElementById("wallboard");
  if (!board) return;
  const period = 1000 * (Number(board.dataset.refreshSeconds) || 5);
  const lost = document.getElementById("wall-lost");
  const clock = document.getElementById("wall-clock");

  // The clock shows the bank's time by the server's clock: a wall screen's own may be off.
  let skew = 0;
  function learnSkew(generatedAt) {
    const server = Date.parse(generatedAt);
    if (!Number.isNaN(server)) skew = server - Date.now();
  }
  let timeFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat("en-GB", {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
      timeZone: board.dataset.timeZone || undefined,
    });
  } catch (error) {
    timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  }
  // Each second as it turns, by the server's clock, so the clock never lags the last update.
  let ticking = null;
  function tick() {
    const now = Date.now() + skew;
    clock.textContent = timeFormat.format(new Date(now));
    clearTimeout(ticking);
    ticking = setTimeout(tick, 1000 - (now % 1000) + 10);
  }

  function show(data) {
    for (const [key, tile] of Object.entries(data.tiles)) {
      const element = board.querySelector(`[data-tile="${key}"]`);
      if (!element) continue;
      element.querySelector(".value").textContent = tile.text;
      element.dataset.state = tile.state;
    }
    for (const field of board.querySelectorAll('[data-field="updated"], [data-field="last-update"]')) {
      field.textContent = data.updated;
    }
    learnSkew(data.generated_at);
    tick();
    board.dataset.refreshed = String(Date.now());
  }

  function connected(isConnected) {
    lost.hidden = isConnected;
    board.classList.toggle("is-stale", !isConnected);
  }

  function refresh() {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), period);
    fetch(board.dataset.source, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: abort.signal,
    })
      .then((response) => {
        // Signed out (the session ended elsewhere): show the sign-in page, not old numbers.
        if (response.redirected) { window.location.reload(); return null; }
        if (!response.ok) throw new Error(`wallboard data: ${response.status}`);
        return response.json();
      })
      .then((data) => {
        if (!data) return;
        show(data);
        connected(true);
      })
      .catch(() => connected(false))
      .finally(() => {
        clearTimeout(timeout);
        setTimeout(refresh, period);
      });
  }

  learnSkew(board.dataset.generatedAt);
  tick();
  setTimeout(refresh, period);
})();
