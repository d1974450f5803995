// The portal's own script: small, self-hosted (the CSP allows no inline scripts).
// When an htmx request fails (a server error, a lost connection, a page that no
// longer exists), say so where a screen reader will announce it, instead of
// leaving the user wondering why nothing happened.
(function () {
  "use strict";

  function tell(message) {
    var region = document.getElementById("request-problem");
    if (!region) return;
    region.textContent = message;
    region.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    // The server's own words when it sent some (busy, a clash, a refused character).
    var type = xhr ? xhr.getResponseHeader("Content-Type") || "" : "";
    if (type.indexOf("text/plain") === 0 && xhr.responseText && xhr.responseText.length < 500) {
      tell(xhr.responseText);
    } else if (status === 404) {
      tell("That item no longer exists: someone may have changed it. Reload the page to see it as it is now.");
    } else if (status === 429) {
      tell("Too many attempts: you have tried this too many times in a short while. Please wait a few minutes and try again.");
    } else {
      tell("Sorry, that did not work (error " + status + "). Reload the page and try again; if it keeps happening, contact support.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    tell("The portal could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var region = document.getElementById("request-problem");
    if (region) region.hidden = true;
  });
})();

// Issues lists on an upload's report: "Select all" / "Select none" tick or untick
// every box of their form. Hidden until this script shows them, since without
// JavaScript they would do nothing; shown again in sections htmx swaps in.
(function () {
  "use strict";

  function showSelectButtons(root) {
    var buttons = root.querySelectorAll ? root.querySelectorAll("[data-select]") : [];
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-select]") : null;
    if (!button || !button.form) return;
    var boxes = button.form.querySelectorAll('input[type="checkbox"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = button.dataset.select === "all";
  });
  document.addEventListener("htmx:load", function (event) {
    showSelectButtons(event.detail.elt);
  });
  showSelectButtons(document);
})();
