// The staff list's filters start folded on a phone, where eight of them came before the
// first result; their summary opens them. On a wide screen, where their summary is not
// shown, they are open, also after the window was made wider. Without JavaScript they stay
// open.
(() => {
  const facets = document.getElementById("facets");
  const narrow = window.matchMedia("(max-width: 991.98px)");
  if (!facets) return;
  facets.open = !narrow.matches;
  narrow.addEventListener("change", (event) => {
    if (!event.matches) facets.open = true;
  });
})();
