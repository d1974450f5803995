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

// Error summaries ("There is a problem", the `error_summary` macro): move focus to
// the summary when a page or an htmx answer arrives with one, so that the user
// sees it and a screen reader reads it; a link in it moves focus to its field
// (with the field's label in view), not only scrolls there.
(function () {
  "use strict";

  function focusNewSummary() {
    var summary = document.querySelector("[data-error-summary]:not([data-error-summary-seen])");
    if (!summary) return;
    summary.setAttribute("data-error-summary-seen", "");
    summary.focus(); // and the browser scrolls it into view, if it is not
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusNewSummary);
  } else {
    focusNewSummary();
  }
  document.addEventListener("htmx:afterSettle", focusNewSummary);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });
})();

// Menu dropdowns (<details class="dropdown"> sharing one name, so opening one
// closes the other): a click outside an open dropdown closes it, and Escape
// closes it and puts focus back on its toggle. The "js" class tells app.css that
// this script runs (it then drops Pico's click catcher, which ate the first click).
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function openDropdowns() {
    return document.querySelectorAll("details.dropdown[open]");
  }

  document.addEventListener("click", function (event) {
    openDropdowns().forEach(function (dropdown) {
      if (!dropdown.contains(event.target)) dropdown.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openDropdowns().forEach(function (dropdown) {
      dropdown.removeAttribute("open");
      var toggle = dropdown.querySelector("summary");
      if (toggle && dropdown.contains(document.activeElement)) toggle.focus();
      else if (toggle && document.activeElement === document.body) toggle.focus();
    });
  });
})();
