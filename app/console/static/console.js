// Progressive enhancement only: every page reads and every form posts without this file.
"use strict";
(function () {
  // A form with data-confirm asks first (rotations, disabling a target).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // "Refresh every N s": reloads the page while the box is ticked; remembered per page.
  var box = document.getElementById("auto-refresh");
  if (box) {
    var key = "relay-console-refresh:" + location.pathname;
    box.closest("[hidden]") && box.closest("[hidden]").removeAttribute("hidden");
    box.checked = window.localStorage.getItem(key) === "1";
    var timer = null;
    var arm = function () {
      window.clearTimeout(timer);
      if (box.checked) {
        timer = window.setTimeout(function () { location.reload(); },
          1000 * Number(box.getAttribute("data-seconds") || 10));
      }
    };
    box.addEventListener("change", function () {
      window.localStorage.setItem(key, box.checked ? "1" : "0");
      arm();
    });
    arm();
  }

  // A new secret, shown once: a button copies it.
  var copy = document.getElementById("copy-secret");
  if (copy && navigator.clipboard) {
    copy.removeAttribute("hidden");
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.getAttribute("data-for")).textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        copy.textContent = "Copied";
      });
    });
  }
})();
