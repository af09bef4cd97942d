// The console shell: live counts in the navigation, keyboard shortcuts, the queue's row cursor
// and bulk bar, and the presence switch. Plain script, no build step; the pages work without it.
(function () {
  "use strict";

  // Navigation counts: fetched after the page is drawn and every half minute.
  const nav = document.querySelector("nav.side[data-counts]");
  function refreshCounts() {
    if (!nav) return;
    fetch(nav.dataset.counts, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((counts) => {
        if (!counts) return;
        for (const [key, value] of Object.entries(counts)) {
          const badge = nav.querySelector(`[data-count="${key}"]`);
          if (badge) badge.textContent = value;
        }
      })
      .catch(() => {});
  }
  refreshCounts();

  // Live: the staff socket says when a case or someone's presence changed (never what); the
  // counts are read again, and the page's own parts (the floor, the queue) hear of it through a
  // "bankdesk:queue-changed" event. While the socket is down the counts are polled instead.
  // The case page keeps its own socket (case_live.js) and polls the counts.
  let live = null;
  let attempt = 0;
  function watch() {
    if (!nav || !nav.dataset.socket || document.getElementById("case-live")) return;
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    live = new WebSocket(scheme + window.location.host + nav.dataset.socket);
    live.addEventListener("open", () => {
      attempt = 0;
      live.send(JSON.stringify({ type: "watch", view: "queue" }));
    });
    live.addEventListener("message", (event) => {
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame && frame.type === "queue_changed") {
        refreshCounts();
        document.dispatchEvent(new CustomEvent("bankdesk:queue-changed"));
      }
    });
    live.addEventListener("close", (event) => {
      live = null;
      if (event.code === 4401) return; // signed out or idle: the next page asks to sign in
      attempt += 1;
      setTimeout(watch, Math.min(30000, 1000 * 2 ** attempt));
    });
  }
  watch();
  // The queue is not redrawn under the agent's hands (ticks, the row cursor): it says it changed.
  const changed = document.querySelector(".queue-changed");
  if (changed) document.addEventListener("bankdesk:queue-changed", () => { changed.hidden = false; });
  setInterval(() => { if (!live || live.readyState !== WebSocket.OPEN) refreshCounts(); }, 30000);

  // Presence: a change takes effect at once.
  const presence = document.querySelector("form.presence select");
  if (presence) presence.addEventListener("change", () => presence.form.submit());

  // The queue: a row cursor moved with j/k, ticking with x, opening with Enter.
  const rows = Array.from(document.querySelectorAll("table.cases tbody tr[data-href]"));
  let current = -1;
  function choose(index) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("chosen");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("chosen");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  const tickAll = document.querySelector(".tick-all");
  if (tickAll) {
    tickAll.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input[name="case"]')) box.checked = tickAll.checked;
    });
  }

  // The bulk bar shows only the control its action needs.
  const action = document.getElementById("bulk-action");
  function showBulkControl() {
    if (!action) return;
    for (const control of action.form.querySelectorAll("[data-for]")) {
      control.hidden = control.dataset.for !== action.value;
    }
  }
  if (action) {
    action.addEventListener("change", showBulkControl);
    showBulkControl();
  }

  const help = document.getElementById("shortcuts");
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      const link = key === "q" ? "/cases/" : key === "m" ? nav && nav.querySelector('[data-view="mine"]') : null;
      if (link) {
        event.preventDefault();
        window.location.href = typeof link === "string" ? link : link.getAttribute("href");
      }
      return;
    }
    if (key === "g") { pendingG = true; return; }
    if (key === "?") { event.preventDefault(); if (help) help.showModal(); return; }
    if (key === "/") {
      const search = document.getElementById("global-search");
      if (search) { event.preventDefault(); search.focus(); }
      return;
    }
    if (key === "j") { choose(current + 1); return; }
    if (key === "k") { choose(current - 1); return; }
    if (key === "Enter" && current >= 0) { window.location.href = rows[current].dataset.href; return; }
    if (key === "x" && current >= 0) {
      const box = rows[current].querySelector('input[name="case"]');
      if (box) box.checked = !box.checked;
      return;
    }
    if (key === "r" || key === "n") {
      const box = document.querySelector(key === "r" ? "form.reply textarea" : "form.note textarea");
      if (box) { event.preventDefault(); box.focus(); }
    }
  });
})();
