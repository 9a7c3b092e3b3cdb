// The application form's communes, narrowed to the chosen province by htmx: a commune chosen
// before the new list arrives (from the whole list, or while it loads on a slow line) stays
// chosen when the province has it. The list stays usable while it loads: disabled, it was
// skipped by the keyboard.
(function () {
  "use strict";
  var chosen = "";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "id_commune") chosen = target.value;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var select = event.detail.target;
    if (!select || select.id !== "id_commune" || !chosen) return;
    if (select.querySelector('option[value="' + CSS.escape(chosen) + '"]')) select.value = chosen;
  });
})();
