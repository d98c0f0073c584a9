// leadcycle's small page helpers; every page also works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // A select marked data-autosubmit submits its form when it changes.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) {
      t.form.requestSubmit ? t.form.requestSubmit() : t.form.submit();
    }
  });
  // A button marked data-copy copies the text of the element it names.
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!t) return;
    var src = document.getElementById(t.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.value || src.textContent);
      t.setAttribute("data-copied", "true");
    }
  });
  // A fragment marked data-invalid-for (a live check of a field, such as
  // a segment's query preview) marks the field it names as invalid or valid.
  document.addEventListener("htmx:afterSettle", function () {
    var marks = document.querySelectorAll("[data-invalid-for]");
    for (var i = 0; i < marks.length; i++) {
      var field = document.getElementById(marks[i].getAttribute("data-invalid-for"));
      if (!field) continue;
      if (marks[i].getAttribute("data-invalid") === "true") field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    }
  });
  // After htmx swaps a page in, move focus to its main region so that
  // keyboard and screen-reader users start at the new content.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.boosted) {
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    }
  });
})();
