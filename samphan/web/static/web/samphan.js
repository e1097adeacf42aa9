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

  // Picking a workspace goes there at once; the form also works with its button.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-ws-switch] select");
    if (select) select.form.submit();
  });
})();
