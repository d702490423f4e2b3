// A table or display equation wider than the text column (on a phone) scrolls sideways
// (custom.css); a line under it says so, only where it does.
//
// bookMarkScrolling is global: tables are marked here once the page is parsed, display
// equations by math.js once MathJax has typeset them, figures by figures.js once their
// images are laid out.
window.bookMarkScrolling = function (selector, text, slack) {
  function mark() {
    for (const box of document.querySelectorAll(selector)) {
      let line = box.nextElementSibling;
      if (!line || !line.classList.contains("book-scroll-line")) {
        line = document.createElement("p");
        line.className = "book-scroll-line";
        line.textContent = text;
        box.after(line);
      }
      // more than `slack` px hidden: more than a border or a padding
      box.classList.toggle("book-scrolls", box.scrollWidth > box.clientWidth + slack);
    }
  }
  mark();
  window.addEventListener("resize", mark);
};

(function () {
  // a hidden column or part of one, not a table's border or padding
  const mark = () =>
    window.bookMarkScrolling("main table.book-table", "Wider than the screen: scroll the table sideways.", 12);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
})();
