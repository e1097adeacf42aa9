/* Samphan UI behaviour: the phone navigation drawer, menus, the workspace switcher.
   Everything here is progressive: without JavaScript the pages still work. */
(function () {
  "use strict";
  var root = document.documentElement;

  function setNav(open) {
    root.classList.toggle("nav-open", open);
    var toggle = document.querySelector(".nav-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.querySelectorAll(".backdrop").forEach(function (b) { b.hidden = !open; });
    if (open) {
      var first = document.querySelector("#sidebar .nav-link");
      if (first) first.focus({ preventScroll: true });
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest(".nav-toggle")) {
      setNav(!root.classList.contains("nav-open"));
      return;
    }
    if (target.closest("[data-nav-close]")) {
      setNav(false);
      return;
    }
    // A click outside an open menu closes it.
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (root.classList.contains("nav-open")) setNav(false);
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  // The brand-voice guard's "Use suggestion": put the suggested wording in the reply box.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-guard-use]");
    if (!button) return;
    var box = document.querySelector(button.getAttribute("data-guard-use"));
    if (!box) return;
    box.value = button.getAttribute("data-suggestion");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });

  // Picking a workspace goes there at once; the form also works with its button.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-ws-switch] select");
    if (select) select.form.submit();
  });
})();

// SLA badges count down without a reload: "Due in 25 min" → "Overdue 3 min" (web/inbox/_sla_badge.html).
(function () {
  function short(seconds, units) {
    var s = Math.max(Math.abs(Math.round(seconds)), 60), d = Math.floor(s / 86400),
      h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), parts = [];
    if (d) parts.push(d + " " + units[0]);
    if (h) parts.push(h + " " + units[1]);
    if (m && !d) parts.push(m + " " + units[2]);
    return parts.slice(0, 2).join(" ");
  }
  function tick() {
    document.querySelectorAll(".sla-badge[data-sla-due]").forEach(function (badge) {
      var text = badge.querySelector(".sla-text");
      var left = (Date.parse(badge.getAttribute("data-sla-due")) - Date.now()) / 1000;
      if (!text || isNaN(left)) return;
      var units = (text.getAttribute("data-units") || "d|h|min").split("|");
      if (left <= 0) {
        badge.classList.remove("sla-on_track", "sla-due_soon");
        badge.classList.add("sla-breached");
        text.textContent = text.getAttribute("data-overdue") + " " + short(left, units);
      } else {
        if (left <= 3600) { badge.classList.remove("sla-on_track"); badge.classList.add("sla-due_soon"); }
        text.textContent = text.getAttribute("data-due-in") + " " + short(left, units);
      }
    });
  }
  setInterval(tick, 30000);
})();

// Inbox (web/inbox/): a blocked reply comes back as 422 with the reasons, which htmx swaps in
// only where a form asks for it (data-swap-422); @mention chips write the handle into the note;
// the thread keeps to its newest message after a refresh.
(function () {
  document.addEventListener("htmx:beforeSwap", function (event) {
    // The element that made the request (detail.elt is the swap target here).
    var elt = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    if (event.detail.xhr.status === 422 && elt && elt.closest && elt.closest("[data-swap-422]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-mention]");
    if (!chip) return;
    var box = document.querySelector(chip.getAttribute("data-mention-target"));
    if (!box) return;
    var sep = box.value && !/\s$/.test(box.value) ? " " : "";
    box.value += sep + chip.getAttribute("data-mention") + " ";
    box.focus();
  });
  function toBottom() {
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", toBottom);
  document.addEventListener("htmx:afterSettle", function (event) {
    var path = event.detail.requestConfig && event.detail.requestConfig.path;
    if (path && path.indexOf("/thread/") !== -1) toBottom();
  });
})();
