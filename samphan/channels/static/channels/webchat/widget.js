/*
 * Samphan web chat widget — one script tag, no dependencies, no build step.
 *
 *   <script src="https://samphan.example/webchat/widget.js" data-channel="PUBLIC-KEY" async></script>
 *
 * Optional attributes: data-lang="th|en" (default: the page's <html lang>, then the browser's
 * language), data-open="true" (open the panel at once).
 *
 * The widget lives in a shadow root (its CSS cannot leak into the page or the page's into it;
 * class names are prefixed swc- for browsers without shadow DOM). It talks to
 * /webchat/PUBLIC-KEY/... with credentials: the visitor is a signed, HttpOnly cookie set by
 * Samphan. Where the browser blocks third-party cookies, the same signed token comes back in
 * the answers; it is kept in this site's localStorage and sent as X-Samphan-Visitor.
 * Replies are fetched by polling with backoff (2 s after activity, up to 15 s while the panel
 * is open and 60 s while it is closed; paused while the tab is hidden). A message is sent with
 * its own id, so sending it again after a lost answer never stores it twice.
 */
(function () {
  "use strict";

  var script = document.currentScript || (function () {
    var found = document.querySelectorAll("script[data-channel][src*='/webchat/widget.js']");
    return found.length ? found[found.length - 1] : null;
  })();
  if (!script || window.__samphanWebchat && window.__samphanWebchat[script.getAttribute("data-channel")]) {
    return;
  }
  var key = script.getAttribute("data-channel") || "";
  if (!/^[0-9a-fA-F-]{36}$/.test(key)) {
    if (window.console) console.warn("Samphan web chat: data-channel is missing or not a channel key");
    return;
  }
  window.__samphanWebchat = window.__samphanWebchat || {};
  window.__samphanWebchat[key] = true;

  var src = new URL(script.src, location.href);
  var base = src.origin + src.pathname.replace(/\/webchat\/widget\.js$/, "");
  var api = base + "/webchat/" + key;
  var pageLang = script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en";
  var lang = /^th/i.test(pageLang) ? "th" : "en";
  var storeKey = "samphan-webchat:" + key;

  var state = {
    token: null,
    emailGiven: "",
    cursor: 0,
    known: false,         // Samphan knows this browser as a visitor: worth polling
    open: false,
    unread: 0,
    lines: {},            // transcript id -> element
    pending: {},          // client id -> {text, el, tries}
    lastOutId: 0,
    seenUpTo: 0,
    delay: 2000,
    timer: null,
    polling: false,
    strings: {}
  };

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
      state.token = saved.token || null;
      state.emailGiven = saved.email || "";
    } catch (e) { /* storage blocked: the cookie alone identifies the visitor */ }
  }

  function save() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify({token: state.token, email: state.emailGiven}));
    } catch (e) { /* storage blocked or full */ }
  }

  function request(method, path, body) {
    var headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers["X-Samphan-Visitor"] = state.token;
    return fetch(api + path, {
      method: method,
      mode: "cors",
      credentials: "include",
      cache: "no-store",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (data && data.visitor_token) {
          state.token = data.visitor_token;
          state.known = true;
          save();
        }
        return {status: response.status, data: data || {},
                retryAfter: parseInt(response.headers.get("Retry-After") || "0", 10) || 0};
      });
    });
  }

  // --- DOM -------------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, name)) node.setAttribute(name, attrs[name]);
    }
    if (text) node.textContent = text;
    return node;
  }

  function readableOn(hex) {
    var n = parseInt(hex.slice(1), 16);
    var rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(function (c) {
      c = c / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return luminance > 0.4 ? "#111827" : "#ffffff";
  }

  var ui = {};

  function build(config) {
    var s = state.strings = config.strings;
    var host = el("div", {"id": "samphan-webchat-" + key.slice(0, 8), "class": "swc-host"});
    var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
    var color = /^#[0-9a-fA-F]{6}$/.test(config.color || "") ? config.color : "#0f766e";
    root.appendChild(el("link", {"rel": "stylesheet", "href": base + "/webchat/widget.css"}));
    var wrap = el("div", {"class": "swc-root", "lang": config.language});
    wrap.style.setProperty("--swc-accent", color);
    wrap.style.setProperty("--swc-on-accent", readableOn(color));

    ui.launcher = el("button", {"type": "button", "class": "swc-launcher", "aria-expanded": "false",
                                "aria-controls": "swc-panel", "aria-label": s.open});
    ui.launcher.innerHTML = '<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="26" height="26">' +
      '<path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    ui.badge = el("span", {"class": "swc-badge", "aria-hidden": "true"});
    ui.badge.hidden = true;
    ui.launcher.appendChild(ui.badge);

    ui.panel = el("section", {"class": "swc-panel", "id": "swc-panel", "role": "dialog",
                              "aria-modal": "false", "aria-labelledby": "swc-title"});
    ui.panel.hidden = true;
    var header = el("header", {"class": "swc-header"});
    header.appendChild(el("h2", {"class": "swc-title", "id": "swc-title"}, config.title));
    ui.close = el("button", {"type": "button", "class": "swc-close", "aria-label": s.close}, "\u00d7");
    header.appendChild(ui.close);

    ui.log = el("div", {"class": "swc-log", "role": "log", "aria-live": "polite", "aria-label": s.log_label,
                        "tabindex": "0"});
    if (config.greeting) {
      var greeting = el("div", {"class": "swc-msg swc-team swc-greeting"});
      greeting.appendChild(el("span", {"class": "swc-sr"}, s.agent + ": "));
      greeting.appendChild(el("span", {"class": "swc-text"}, config.greeting));
      ui.log.appendChild(greeting);
    }
    ui.status = el("p", {"class": "swc-status", "role": "status", "aria-live": "polite"});

    ui.emailForm = el("form", {"class": "swc-email", "novalidate": ""});
    ui.emailLabel = el("label", {"for": "swc-email-input", "class": "swc-email-label"}, s.email_prompt);
    var emailRow = el("div", {"class": "swc-row"});
    ui.emailInput = el("input", {"type": "email", "id": "swc-email-input", "class": "swc-input",
                                 "autocomplete": "email", "inputmode": "email", "placeholder": s.email_label,
                                 "maxlength": "254", "required": ""});
    ui.emailButton = el("button", {"type": "submit", "class": "swc-button swc-secondary"}, s.email_save);
    emailRow.appendChild(ui.emailInput);
    emailRow.appendChild(ui.emailButton);
    ui.emailForm.appendChild(ui.emailLabel);
    ui.emailForm.appendChild(emailRow);
    ui.emailDone = el("p", {"class": "swc-email-done"});
    showEmailState();

    ui.compose = el("form", {"class": "swc-compose"});
    ui.compose.appendChild(el("label", {"for": "swc-input", "class": "swc-sr"}, s.message_label));
    ui.input = el("textarea", {"id": "swc-input", "class": "swc-input swc-textarea", "rows": "1",
                               "maxlength": "2000", "placeholder": s.placeholder});
    ui.send = el("button", {"type": "submit", "class": "swc-button"}, s.send);
    ui.compose.appendChild(ui.input);
    ui.compose.appendChild(ui.send);

    ui.panel.appendChild(header);
    ui.panel.appendChild(ui.log);
    ui.panel.appendChild(ui.status);
    ui.panel.appendChild(ui.emailForm);
    ui.panel.appendChild(ui.emailDone);
    ui.panel.appendChild(ui.compose);
    wrap.appendChild(ui.panel);
    wrap.appendChild(ui.launcher);
    root.appendChild(wrap);
    document.body.appendChild(host);

    ui.launcher.addEventListener("click", function () { setOpen(!state.open); });
    ui.close.addEventListener("click", function () { setOpen(false); ui.launcher.focus(); });
    wrap.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) {
        setOpen(false);
        ui.launcher.focus();
      }
    });
    ui.compose.addEventListener("submit", function (event) {
      event.preventDefault();
      submitMessage();
    });
    ui.input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter is a new line; never while an input method (Thai, …) is composing.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submitMessage();
      }
    });
    ui.input.addEventListener("input", autosize);
    ui.emailForm.addEventListener("submit", function (event) {
      event.preventDefault();
      submitEmail();
    });
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + "px";
  }

  function showEmailState() {
    if (state.emailGiven) {
      ui.emailForm.hidden = true;
      ui.emailDone.hidden = false;
      ui.emailDone.textContent = state.strings.email_saved.replace("{email}", state.emailGiven);
    } else {
      ui.emailForm.hidden = false;
      ui.emailDone.hidden = true;
    }
  }

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.launcher.setAttribute("aria-label", open ? state.strings.close : state.strings.open);
    if (open) {
      state.unread = 0;
      updateBadge();
      scrollToEnd();
      ui.input.focus();
      markSeen();
      if (state.known) schedule(0);
    }
  }

  function updateBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    ui.launcher.setAttribute("aria-label", state.unread
      ? state.strings.open + " (" + state.unread + " " + state.strings.new_message + ")"
      : (state.open ? state.strings.close : state.strings.open));
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function bubble(mine, text) {
    var node = el("div", {"class": "swc-msg " + (mine ? "swc-mine" : "swc-team")});
    node.appendChild(el("span", {"class": "swc-sr"}, (mine ? state.strings.you : state.strings.agent) + ": "));
    node.appendChild(el("span", {"class": "swc-text"}, text));
    var meta = el("span", {"class": "swc-meta"});
    node.appendChild(meta);
    return node;
  }

  function setMeta(node, text, failed) {
    var meta = node.querySelector(".swc-meta");
    meta.textContent = text || "";
    node.classList.toggle("swc-failed", !!failed);
  }

  function addLine(line) {
    if (state.lines[line.id]) return;
    var node = null;
    if (line.direction === "in" && line.client_id && state.pending[line.client_id]) {
      node = state.pending[line.client_id].el;
      delete state.pending[line.client_id];
      setMeta(node, "");
    }
    if (!node) {
      node = bubble(line.direction === "in", line.text);
      node.setAttribute("data-id", String(line.id));
      ui.log.appendChild(node);
    }
    state.lines[line.id] = node;
    if (line.direction === "out") {
      if (line.id > state.lastOutId) state.lastOutId = line.id;
      if (line.seen && line.id > state.seenUpTo) state.seenUpTo = line.id;
      if (!state.open && !line.seen) {
        state.unread += 1;
        updateBadge();
      }
    }
  }

  // --- sending --------------------------------------------------------------------------

  function newClientId() {
    var random = "";
    if (window.crypto && window.crypto.getRandomValues) {
      var bytes = new Uint8Array(9);
      window.crypto.getRandomValues(bytes);
      for (var i = 0; i < bytes.length; i++) random += ("0" + bytes[i].toString(16)).slice(-2);
    } else {
      random = Math.random().toString(16).slice(2);
    }
    return "c" + Date.now().toString(36) + random;
  }

  function submitMessage() {
    var text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    autosize();
    var clientId = newClientId();
    var node = bubble(true, text);
    node.setAttribute("data-client-id", clientId);
    ui.log.appendChild(node);
    scrollToEnd();
    state.pending[clientId] = {text: text, el: node, tries: 0};
    deliver(clientId);
  }

  function deliver(clientId) {
    var item = state.pending[clientId];
    if (!item) return;
    item.tries += 1;
    setMeta(item.el, state.strings.sending);
    request("POST", "/messages", {client_id: clientId, text: item.text, lang: lang, page: location.href})
      .then(function (result) {
        if (result.status === 200 || result.status === 202) {
          state.known = true;
          ui.status.textContent = "";
          addLine(result.data.message);
          state.delay = 1500;
          schedule(state.delay);
        } else if (result.status === 429) {
          ui.status.textContent = state.strings.rate_limited;
          setTimeout(function () { deliver(clientId); }, Math.max(result.retryAfter, 1) * 1000);
        } else if (result.status >= 500) {
          retryLater(clientId);
        } else {
          failed(clientId, result.data.message);
        }
      }, function () { retryLater(clientId); });
  }

  function retryLater(clientId) {
    var item = state.pending[clientId];
    if (!item) return;
    if (item.tries >= 5) {
      failed(clientId);
      return;
    }
    ui.status.textContent = state.strings.offline;
    // The same client id each time: Samphan stores the message once however often it arrives.
    setTimeout(function () { deliver(clientId); }, Math.min(1000 * Math.pow(2, item.tries), 30000));
  }

  function failed(clientId, reason) {
    var item = state.pending[clientId];
    if (!item) return;
    setMeta(item.el, state.strings.failed, true);
    if (reason) item.el.setAttribute("title", reason);
    item.el.setAttribute("role", "button");
    item.el.setAttribute("tabindex", "0");
    var retry = function (event) {
      if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
      item.el.removeEventListener("click", retry);
      item.el.removeEventListener("keydown", retry);
      item.el.removeAttribute("role");
      item.el.removeAttribute("tabindex");
      item.tries = 0;
      deliver(clientId);
    };
    item.el.addEventListener("click", retry);
    item.el.addEventListener("keydown", retry);
  }

  function submitEmail() {
    var value = ui.emailInput.value.trim();
    if (!value || !ui.emailInput.checkValidity()) {
      ui.status.textContent = state.strings.email_invalid;
      ui.emailInput.setAttribute("aria-invalid", "true");
      ui.emailInput.focus();
      return;
    }
    ui.emailInput.removeAttribute("aria-invalid");
    ui.emailButton.disabled = true;
    request("POST", "/email", {email: value}).then(function (result) {
      ui.emailButton.disabled = false;
      if (result.status === 202) {
        state.emailGiven = result.data.email;
        state.known = true;
        save();
        ui.status.textContent = "";
        showEmailState();
        ui.input.focus();  // the form it was in is gone: keep the keyboard inside the panel
      } else if (result.status === 429) {
        ui.status.textContent = state.strings.rate_limited;
      } else if (result.status === 422) {
        ui.status.textContent = state.strings.email_invalid;
        ui.emailInput.setAttribute("aria-invalid", "true");
      } else {
        ui.status.textContent = state.strings.offline;
      }
    }, function () {
      ui.emailButton.disabled = false;
      ui.status.textContent = state.strings.offline;
    });
  }

  // --- receiving ------------------------------------------------------------------------

  function schedule(delay) {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(poll, delay);
  }

  function poll() {
    state.timer = null;
    if (!state.known || document.hidden || state.polling) return;
    state.polling = true;
    request("GET", "/messages?after=" + state.cursor).then(function (result) {
      state.polling = false;
      var max = state.open ? 15000 : 60000;
      if (result.status === 200) {
        if (ui.status.textContent === state.strings.offline) ui.status.textContent = "";
        var lines = result.data.messages || [];
        lines.forEach(addLine);
        if (result.data.cursor > state.cursor) state.cursor = result.data.cursor;
        if (lines.length) {
          scrollToEnd();
          markSeen();
          state.delay = 2000;
        } else {
          state.delay = Math.min(state.delay * 1.5, max);
        }
        if (result.data.visitor === false) state.known = false;
      } else if (result.status === 429) {
        state.delay = Math.max(result.retryAfter * 1000, state.delay);
      } else {
        state.delay = Math.min(state.delay * 2, 60000);
      }
      schedule(state.delay);
    }, function () {
      state.polling = false;
      state.delay = Math.min(state.delay * 2, 60000);
      schedule(state.delay);
    });
  }

  function markSeen() {
    if (!state.open || document.hidden || state.lastOutId <= state.seenUpTo) return;
    var upTo = state.lastOutId;
    request("POST", "/seen", {up_to: upTo}).then(function (result) {
      if (result.status === 200 && upTo > state.seenUpTo) state.seenUpTo = upTo;
    }, function () { /* told again on the next reply */ });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.known && ui.log) {
      state.delay = 2000;
      schedule(0);
      markSeen();
    }
  });

  // --- start ----------------------------------------------------------------------------

  function start() {
    load();
    request("GET", "/config?lang=" + lang).then(function (result) {
      if (result.status !== 200 || !result.data.strings) {
        if (window.console) console.warn("Samphan web chat is not available here:", result.data.message || result.status);
        return;
      }
      state.known = !!result.data.visitor || !!state.token;
      build(result.data);
      if (script.getAttribute("data-open") === "true") setOpen(true);
      if (state.known) schedule(0);
    }, function () {
      if (window.console) console.warn("Samphan web chat: cannot reach " + base);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
