// The keyboard grid of marks: Enter or ArrowDown moves to the next line, ArrowUp to the
// previous one (absent lines are skipped); from the last line, to the button that saves them
// all. Each line saves itself with htmx when it changes; without JavaScript the form saves
// every line at once.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("tp-mark")) return;
    var grid = input.closest("[data-tp-grid]");
    if (!grid) return;
    var step = 0;
    if (event.key === "Enter" || event.key === "ArrowDown") step = 1;
    else if (event.key === "ArrowUp") step = -1;
    else return;
    event.preventDefault();
    var inputs = Array.prototype.slice.call(grid.querySelectorAll("input.tp-mark:not([disabled])"));
    var next = inputs[inputs.indexOf(input) + step];
    if (next) {
      next.focus();
      next.select();
    } else if (step === 1) {
      // The last line: leaving it saves it. The focus goes on to the button, not to the page.
      var save = grid.querySelector("[data-tp-grid-save]");
      if (save) save.focus();
      else input.blur();
    }
  });
})();
