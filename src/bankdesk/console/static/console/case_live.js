/* The live case screen: new messages appear as they are written, replies go without a reload.
 * Served as a file because the console's Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  var root = document.getElementById("case-live");
  if (!root) { return; }
  var caseId = Number(root.dataset.caseId);
  var thread = root.querySelector(".thread");
  var status = root.querySelector(".live-status");
  var typing = root.querySelector(".live-typing");
  var form = root.querySelector("form.reply");
  var textarea = form.querySelector("textarea");
  var attempt = 0;
  var socket = null;
  var typingSent = false;
  var typingTimer = null;
  var typingShownTimer = null;

  function add(frame) {
    if (thread.querySelector('[data-message-id="' + frame.message_id + '"]')) { return; }
    var item = document.createElement("li");
    item.className = "thread-message";
    item.dataset.messageId = String(frame.message_id);
    item.dataset.direction = frame.direction;
    var meta = document.createElement("span");
    meta.className = "thread-meta";
    var who = frame.direction === "inbound" ? root.dataset.customer : frame.author;
    meta.textContent = who + " · " + new Date(frame.at).toLocaleString();
    var body = document.createElement("span");
    body.className = "thread-text";
    body.textContent = frame.text;
    item.appendChild(meta);
    item.appendChild(body);
    // In id order, whatever order the notices arrive in.
    var next = null;
    thread.querySelectorAll(".thread-message").forEach(function (other) {
      if (!next && Number(other.dataset.messageId) > frame.message_id) { next = other; }
    });
    thread.insertBefore(item, next);
    if (frame.direction === "inbound") { typing.hidden = true; }
    item.scrollIntoView({ block: "nearest" });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempt = 0;
      status.textContent = "";
      socket.send(JSON.stringify({ type: "subscribe", case_id: caseId }));
    });
    socket.addEventListener("message", function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message" && frame.case_id === caseId) {
        add(frame);
      } else if (frame.type === "typing" && frame.case_id === caseId) {
        typing.hidden = !frame.is_typing;
        window.clearTimeout(typingShownTimer);
        if (frame.is_typing) {
          typingShownTimer = window.setTimeout(function () { typing.hidden = true; }, 8000);
        }
      } else if (frame.type === "subscribed") {
        root.classList.add("is-live");
      }
    });
    socket.addEventListener("close", function (event) {
      root.classList.remove("is-live");
      if (event.code === 4401) {
        // Signed out or idle: a reload shows the sign-in page.
        window.location.reload();
        return;
      }
      status.textContent = root.dataset.offline;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.8 + Math.random() * 0.4);
      attempt += 1;
      window.setTimeout(connect, delay);
    });
  }

  function setTyping(isTyping) {
    if (typingSent === isTyping || !socket || socket.readyState !== WebSocket.OPEN) { return; }
    socket.send(JSON.stringify({ type: "typing", case_id: caseId, is_typing: isTyping }));
    typingSent = isTyping;
  }

  textarea.addEventListener("input", function () {
    setTyping(textarea.value.length > 0);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { setTyping(false); }, 4000);
  });

  form.addEventListener("submit", function (event) {
    if (!window.fetch) { return; }  // the plain form post still works
    event.preventDefault();
    var body = new FormData(form);
    var button = form.querySelector("button");
    button.disabled = true;
    window.fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok) {
        if (macro && macro.value) { window.location.reload(); return null; }  // it changed the case
        textarea.value = "";
        setTyping(false);
        status.textContent = "";
        return null;
      }
      return response.text().then(function (message) { status.textContent = message; });
    }).catch(function () {
      status.textContent = root.dataset.offline;
    }).then(function () { button.disabled = false; });
  });

  // A macro's text, filled for this case, goes into the reply box; its changes go with the reply.
  var macro = form.querySelector(".macro-choice");
  if (macro) {
    macro.addEventListener("change", function () {
      var option = macro.options[macro.selectedIndex];
      if (option && option.dataset.text) {
        textarea.value = option.dataset.text;
        textarea.focus();
      }
    });
  }

  // A suggested knowledge entry goes into the reply box for the agent to adapt and send.
  Array.prototype.forEach.call(document.querySelectorAll(".use-suggestion"), function (button) {
    button.addEventListener("click", function () {
      var body = button.parentNode.querySelector(".suggestion-body");
      textarea.value = textarea.value ? textarea.value + "\n" + body.textContent : body.textContent;
      textarea.focus();
    });
  });

  connect();
})();
