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

// E-mail Templates: line numbers beside the text of an email (a textarea marked
// data-line-numbers), so that a problem's "Line 12" can be found at a glance; the
// lines with problems are marked, and a problem's link selects its line. Each
// number is as tall as its line once wrapped, measured in a hidden copy of the
// text laid out as the textarea lays it out, and the numbers scroll with the text.
// Without JavaScript the problems still name and quote their lines.
(function () {
  "use strict";

  var COPIED = ["fontFamily", "fontSize", "fontWeight", "lineHeight", "letterSpacing", "wordSpacing", "tabSize"];

  function numberLines(textarea) {
    if (textarea.dataset.lineNumbered) return;
    textarea.dataset.lineNumbered = "yes";
    var wrapper = document.createElement("div");
    var gutter = document.createElement("div");
    var copy = document.createElement("div");
    wrapper.className = "line-numbered";
    gutter.className = "line-gutter";
    copy.className = "line-copy";
    gutter.setAttribute("aria-hidden", "true");
    copy.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(wrapper, textarea);
    wrapper.append(gutter, textarea, copy);
    var pending = false;

    function render() {
      pending = false;
      var style = getComputedStyle(textarea);
      COPIED.forEach(function (name) { copy.style[name] = style[name]; gutter.style[name] = style[name]; });
      gutter.style.fontFamily = "";  // the numbers in the page's own monospace
      var sides = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      copy.style.width = (textarea.clientWidth - sides) + "px";
      gutter.style.paddingTop = (parseFloat(style.paddingTop) + parseFloat(style.borderTopWidth)) + "px";
      copy.replaceChildren.apply(copy, textarea.value.split("\n").map(function (line) {
        var row = document.createElement("div");
        row.textContent = line || "\u200b";  // an empty line is one line high
        return row;
      }));
      var numbers = Array.prototype.map.call(copy.children, function (row, index) {
        var number = document.createElement("div");
        number.textContent = index + 1;
        number.style.height = row.getBoundingClientRect().height + "px";
        return number;
      });
      // Room to scroll as far as the text does.
      var end = document.createElement("div");
      end.style.height = textarea.clientHeight + "px";
      gutter.replaceChildren.apply(gutter, numbers.concat([end]));
      markProblems();
      gutter.scrollTop = textarea.scrollTop;
    }

    function later() {
      if (!pending) { pending = true; requestAnimationFrame(render); }
    }

    function markProblems() {
      var lines = {};
      document.querySelectorAll('a[data-field="' + textarea.id + '"][data-line]').forEach(function (link) {
        lines[link.dataset.line] = true;
      });
      Array.prototype.forEach.call(gutter.children, function (number, index) {
        number.classList.toggle("has-problem", Boolean(lines[index + 1]));
      });
    }

    function selectLine(number) {
      var lines = textarea.value.split("\n");
      var start = lines.slice(0, number - 1).join("\n").length + (number > 1 ? 1 : 0);
      var row = copy.children[number - 1];
      textarea.focus();
      textarea.setSelectionRange(start, start + (lines[number - 1] || "").length);
      if (row) textarea.scrollTop = Math.max(row.offsetTop - textarea.clientHeight / 3, 0);
    }

    textarea.addEventListener("input", later);
    textarea.addEventListener("scroll", function () { gutter.scrollTop = textarea.scrollTop; });
    new ResizeObserver(later).observe(textarea);
    document.addEventListener("htmx:afterSettle", markProblems);
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest('a[data-field="' + textarea.id + '"][data-line]');
      if (!link) return;
      event.preventDefault();
      selectLine(Number(link.dataset.line));
    });
    render();
  }

  function numberAll() {
    document.querySelectorAll("textarea[data-line-numbers]").forEach(numberLines);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", numberAll);
  } else {
    numberAll();
  }
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

// Upload Resources - TP: files dropped on the drop zone join the file input (the
// form posts them as if chosen), and files over the size limit or too many are
// reported before a long upload starts. The server checks everything again.
(function () {
  "use strict";

  function sizeInMb(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function check(form) {
    var input = form.querySelector('input[type="file"]');
    var message = form.querySelector("[data-upload-check]");
    if (!input || !message) return true;
    var maxBytes = Number(form.dataset.maxBytes);
    var maxFiles = Number(form.dataset.maxFiles);
    var problems = [];
    if (maxFiles && input.files.length > maxFiles) {
      problems.push("Upload at most " + maxFiles + " files at a time; you chose " + input.files.length + ".");
    }
    for (var i = 0; i < input.files.length; i++) {
      var file = input.files[i];
      if (maxBytes && file.size > maxBytes) {
        problems.push("“" + file.name + "” is " + sizeInMb(file.size) + ", larger than " + sizeInMb(maxBytes) + ", the largest file the portal accepts.");
      }
    }
    message.textContent = problems.join(" ");
    message.hidden = problems.length === 0;
    return problems.length === 0;
  }

  function setUp(form) {
    var zone = form.querySelector("[data-drop-zone]");
    var input = form.querySelector('input[type="file"]');
    if (!input || form.dataset.ready) return;
    form.dataset.ready = "1";
    input.addEventListener("change", function () {
      check(form);
    });
    form.addEventListener("submit", function (event) {
      if (!check(form)) {
        event.preventDefault();
        input.focus();
      }
    });
    if (!zone) return;
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var files = new DataTransfer();
      for (var i = 0; i < input.files.length; i++) files.items.add(input.files[i]);
      for (var j = 0; j < event.dataTransfer.files.length; j++) files.items.add(event.dataTransfer.files[j]);
      input.files = files.files;
      check(form);
    });
  }

  function setUpAll() {
    document.querySelectorAll("form[data-max-bytes]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();

// Forms marked data-submit-once (uploads, Save of an upload): once sent, their button
// says so and cannot send them again while the server works.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once]") || event.defaultPrevented) return;
    var button = event.submitter || form.querySelector('button[type="submit"]');
    if (!button) return;
    // After this event: disabling it now would leave its name out of the form sent.
    setTimeout(function () {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      if (button.dataset.busyText) button.textContent = button.dataset.busyText;
    }, 0);
  });
  // Back to a page kept by the browser: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submit-once] button[aria-busy]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });
})();
