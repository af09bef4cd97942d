/* bankdesk web chat widget: plain JavaScript, no dependencies, no inline code.
 *
 * Embed on any page:
 *   <link rel="stylesheet" href="https://BANKDESK/intake/chat/widget.css">
 *   <script src="https://BANKDESK/intake/chat/widget.js" defer data-bankdesk-chat
 *           data-endpoint="CODE" data-customer-token="TOKEN FROM THE BANK'S APP"></script>
 * or call window.BankdeskChat.identify(token) once the customer has signed in.
 *
 * Messages are shown in the order of their seq (the server's), whatever order they arrive in.
 * Where the bank offers its assistant, a chat starts with it: those messages carry a `turn`
 * instead, and every turn comes before the chat's first seq. A message is kept as pending
 * until the server acknowledges it and re-sent with the same client_id after a reconnect, so
 * it is stored once. The session id is kept in localStorage, so a reload continues the same
 * chat and shows it again; after a dropped connection the page asks only for what it missed
 * (and the server sends the turns again, which the page already shows).
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-bankdesk-chat]");
  if (!script) { return; }
  var data = script.dataset;
  var base = new URL(script.src, document.baseURI);
  var socketUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws/chat/" +
    (data.endpoint ? "?endpoint=" + encodeURIComponent(data.endpoint) : "");
  var storeKey = "bankdesk-chat:" + base.host + ":" + (data.endpoint || "");
  var text = {
    title: data.title || "在线客服",
    placeholder: data.placeholder || "请输入您的问题",
    send: data.send || "发送",
    typing: data.typing || "客服正在输入…",
    offline: data.offline || "正在重新连接…",
    you: data.you || "我"
  };

  var state = load();
  var customerToken = data.customerToken || "";
  var socket = null;
  var connected = false;
  var attempt = 0;
  var typingSent = false;
  var typingTimer = null;
  var typingShownTimer = null;
  var shown = {};  // "s<seq>" or "t<turn>" -> element
  var pending = {};  // client_id -> {text, element}
  var ratings = {};  // survey token -> the rating shown for it

  // The session id is kept across pages; the last seq shown is this page's own (a new page
  // shows nothing yet, so it asks for the whole chat; a reconnect asks for what came after).
  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
      var rated = Array.isArray(saved.rated) ? saved.rated.slice(-20) : [];
      return { sessionId: saved.sessionId || null, lastSeq: 0, rated: rated };
    } catch (e) {
      return { sessionId: null, lastSeq: 0, rated: [] };
    }
  }

  function save() {
    try {
      window.localStorage.setItem(
        storeKey, JSON.stringify({ sessionId: state.sessionId, rated: state.rated })
      );
    } catch (e) { /* private mode: the chat still works, it just will not resume */ }
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content) { node.textContent = content; }
    return node;
  }

  // -- the window ---------------------------------------------------------------------------
  var root = el("section", "bdchat");
  root.setAttribute("aria-label", text.title);
  var launcher = el("button", "bdchat-launcher", text.title);
  launcher.type = "button";
  var panel = el("div", "bdchat-panel");
  var header = el("header", "bdchat-header", text.title);
  var status = el("p", "bdchat-status");
  status.setAttribute("role", "status");
  var list = el("ol", "bdchat-messages");
  list.setAttribute("aria-live", "polite");
  var typing = el("p", "bdchat-typing", text.typing);
  typing.hidden = true;
  var form = el("form", "bdchat-form");
  var input = el("textarea", "bdchat-input");
  input.placeholder = text.placeholder;
  input.maxLength = 4000;
  input.rows = 2;
  input.setAttribute("aria-label", text.placeholder);
  var sendButton = el("button", "bdchat-send", text.send);
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(list);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);
  panel.hidden = data.open !== "true";

  launcher.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) { input.focus(); }
  });

  // Where a message goes: turns (the assistant's part) first, then seqs (people's), each in
  // increasing order; pending messages (neither yet) stay at the end.
  function position(frame) {
    if (frame.turn) { return { key: "t" + frame.turn, phase: 0, n: frame.turn }; }
    return { key: "s" + frame.seq, phase: 1, n: frame.seq };
  }

  function before(item, other) {
    if (!other.dataset.phase) { return true; }
    var phase = Number(other.dataset.phase);
    return phase > Number(item.dataset.phase) ||
      (phase === Number(item.dataset.phase) && Number(other.dataset.n) > Number(item.dataset.n));
  }

  function place(item, at) {
    item.dataset.phase = String(at.phase);
    item.dataset.n = String(at.n);
    if (at.phase === 1) { item.dataset.seq = String(at.n); } else { item.dataset.turn = String(at.n); }
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      if (before(item, children[i])) {
        list.insertBefore(item, children[i]);
        return;
      }
    }
    list.appendChild(item);
  }

  function bubble(author, name, body) {
    var item = el("li", "bdchat-message");
    item.dataset.author = author;
    item.appendChild(el("span", "bdchat-author", name));
    item.appendChild(el("span", "bdchat-text", body));
    return item;
  }

  function showMessage(frame) {
    var at = position(frame);
    remember(frame);
    if (frame.client_id && pending[frame.client_id]) {
      acknowledge(frame.client_id, at);
    }
    if (shown[at.key]) { return; }
    var own = frame.author === "customer";
    var item = bubble(frame.author, own ? text.you : frame.name, frame.text);
    shown[at.key] = item;
    place(item, at);
    if (!own) { typing.hidden = true; }
    list.scrollTop = list.scrollHeight;
  }

  // -- the rating at the end of a chat ----------------------------------------------------
  // The case was resolved: the customer rates it 1-5 here, or opens the whole survey.
  function showRating(frame) {
    if (typeof frame.token !== "string" || ratings[frame.token] ||
        state.rated.indexOf(frame.token) !== -1) { return; }
    var item = el("li", "bdchat-rating");
    item.appendChild(el("p", "bdchat-rating-question", frame.question || ""));
    var scale = el("div", "bdchat-rating-scale");
    for (var score = 1; score <= 5; score++) {
      var button = el("button", "bdchat-rating-point", String(score));
      button.type = "button";
      button.dataset.score = String(score);
      button.setAttribute("aria-label", score + " / 5");
      scale.appendChild(button);
    }
    scale.addEventListener("click", function (event) {
      var chosen = event.target.closest ? event.target.closest("button") : null;
      if (!chosen) { return; }
      if (send({ type: "rating", token: frame.token, score: Number(chosen.dataset.score) })) {
        item.classList.add("bdchat-pending");
      }
    });
    item.appendChild(scale);
    var ends = el("p", "bdchat-rating-ends");
    ends.appendChild(el("span", "", frame.low || "1"));
    ends.appendChild(el("span", "", frame.high || "5"));
    item.appendChild(ends);
    if (typeof frame.link === "string" && /^https?:\/\//.test(frame.link)) {
      var more = el("a", "bdchat-rating-more", frame.more || frame.link);
      more.href = frame.link;
      more.target = "_blank";
      more.rel = "noopener noreferrer";
      item.appendChild(more);
    }
    item.dataset.thanks = frame.thanks || "";
    ratings[frame.token] = item;
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function rated(frame) {
    var item = ratings[frame.token];
    if (!item) { return; }
    item.classList.remove("bdchat-pending");
    if (frame.result === "stored" || frame.result === "used") {
      item.textContent = "";
      item.appendChild(el("p", "bdchat-rating-thanks", item.dataset.thanks));
      state.rated.push(frame.token);
      save();
    } else {
      item.remove();
      delete ratings[frame.token];
    }
  }

  function acknowledge(clientId, at) {
    var entry = pending[clientId];
    delete pending[clientId];
    if (!entry) { return; }
    if (shown[at.key]) {
      entry.element.remove();
      return;
    }
    entry.element.classList.remove("bdchat-pending");
    shown[at.key] = entry.element;
    entry.element.remove();
    place(entry.element, at);
  }

  function remember(frame) {
    if (frame.seq && frame.seq > state.lastSeq) {
      state.lastSeq = frame.seq;
    }
  }

  // -- the connection -----------------------------------------------------------------------
  function send(frame) {
    if (connected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    socket = new WebSocket(socketUrl);
    socket.addEventListener("open", function () {
      // On a reconnect, ask only for what came after the last message this page shows.
      var hello = { type: "hello", last_seq: state.lastSeq };
      if (state.sessionId) { hello.session_id = state.sessionId; }
      if (customerToken) { hello.customer_token = customerToken; }
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      receive(frame);
    });
    socket.addEventListener("close", function (event) {
      connected = false;
      root.classList.add("bdchat-offline");
      if (event.code === 4429) {
        // Refused for too many chats or frames from this network: keep saying why, wait longest.
        attempt = Math.max(attempt, 6);
      } else {
        status.textContent = text.offline;
      }
      // Back off: 0.5 s, 1 s, 2 s … up to 30 s, with jitter so a restart is not a stampede.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.8 + Math.random() * 0.4);
      attempt += 1;
      window.setTimeout(connect, delay);
    });
  }

  function receive(frame) {
    if (frame.type === "welcome") {
      if (frame.session_id !== state.sessionId) {
        if (state.sessionId) {
          // A new session (the old one expired): its seqs start over for this page.
          state.lastSeq = 0;
        }
        state.sessionId = frame.session_id;
        save();
      }
      connected = true;
      attempt = 0;
      status.textContent = "";
      root.classList.remove("bdchat-offline");
      Object.keys(pending).forEach(function (clientId) {
        send({ type: "message", client_id: clientId, text: pending[clientId].text });
      });
    } else if (frame.type === "ack") {
      acknowledge(frame.client_id, position(frame));
      remember(frame);
    } else if (frame.type === "message") {
      showMessage(frame);
    } else if (frame.type === "survey") {
      showRating(frame);
    } else if (frame.type === "rated") {
      rated(frame);
    } else if (frame.type === "typing") {
      typing.hidden = !frame.is_typing;
      window.clearTimeout(typingShownTimer);
      if (frame.is_typing) {
        typingShownTimer = window.setTimeout(function () { typing.hidden = true; }, 8000);
      }
    } else if (frame.type === "error") {
      status.textContent = frame.message || frame.code;
      if (frame.client_id && pending[frame.client_id] && frame.code !== "rate_limited") {
        pending[frame.client_id].element.classList.add("bdchat-failed");
        delete pending[frame.client_id];
      }
    }
  }

  function newClientId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) { return; }
    var clientId = newClientId();
    var item = bubble("customer", text.you, body);
    item.classList.add("bdchat-pending");
    list.appendChild(item);
    pending[clientId] = { text: body, element: item };
    input.value = "";
    setTyping(false);
    send({ type: "message", client_id: clientId, text: body });
    list.scrollTop = list.scrollHeight;
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function setTyping(isTyping) {
    if (typingSent !== isTyping && send({ type: "typing", is_typing: isTyping })) {
      typingSent = isTyping;
    }
  }

  input.addEventListener("input", function () {
    setTyping(input.value.length > 0);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { setTyping(false); }, 4000);
  });

  window.BankdeskChat = {
    identify: function (token) {
      // A customer who signs in mid-chat: reconnect so the server checks the token.
      customerToken = token || "";
      if (socket) { socket.close(); }
    }
  };

  function start() {
    document.body.appendChild(root);
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
