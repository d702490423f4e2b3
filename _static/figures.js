// A figure is never shown narrower than 520 px (custom.css), so on a phone it is wider
// than the text column and scrolls sideways. Where it does, the line under it says so,
// as under a table (scrolling.js), and a tap opens the drawing on its own, where the
// reader can zoom it.
(function () {
  const FIGURES = "main figure, main div.cell_output:has(> img)";

  function start() {
    window.bookMarkScrolling(
      FIGURES, "Wider than the screen: scroll sideways or tap to open.", 1);
    for (const box of document.querySelectorAll(FIGURES)) {
      const img = box.querySelector("img");
      img?.addEventListener("click", () => {
        if (box.classList.contains("book-scrolls")) window.open(img.src, "_blank");
      });
    }
  }

  // after the images are laid out: their width decides whether the figure scrolls
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
