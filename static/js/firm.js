/* Firm workspace behaviour: submit a form once, confirm destructive acts. No inline scripts (CSP). */
(function () {
  "use strict";

  // A double click submits once: the first submit disables the form's buttons; the database
  // constraint refuses a second application anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    form.querySelectorAll("[data-submit-once], button[type=submit]").forEach(function (button) {
      // Keep the clicked button's name/value in the request before disabling it.
      if (button.name && event.submitter === button) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = button.name;
        hidden.value = button.value;
        form.appendChild(hidden);
      }
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    });
  });

  // Coming back with the browser's back button re-enables the buttons.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.dataset.submitted = "";
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = false;
        b.removeAttribute("aria-disabled");
      });
    });
  });
})();
