/* Subsidies pages: ask before acts that move money or cannot be undone (forms with data-confirm);
   on the policy form show only the parameters of the chosen kind. No inline scripts (CSP). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function showKind() {
    var select = document.getElementById("id_kind");
    if (!select) { return; }
    var kind = select.value;
    document.querySelectorAll("[data-kind]").forEach(function (block) {
      block.hidden = block.getAttribute("data-kind") !== kind;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_kind") { showKind(); }
  });
  document.addEventListener("DOMContentLoaded", showKind);
})();
