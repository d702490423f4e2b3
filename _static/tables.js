// Numbers in the book's tables (book.tables) never break across lines.
//
// A cell of numbers -- "0.9767 ± 0.0003", "+0.1213 [-0.1346, +0.3772]" -- is kept on
// one line (a nowrap span); one that adds a range in parentheses, "0.3039 ± 0.1183
// (0.2349–0.4405)", may put the range under the estimate in a narrow column, but no
// number, estimate or interval is split. Cells with words ("head, k = 6 (smallest
// ≥ 0.95)") wrap, but never inside "k = 6" or "≥ 0.95". Cells with math are left
// alone. Without this script only the right-aligned (numeric) cells are kept on one
// line, by custom.css.
(function () {
  const RELATION = / ([=≥≤<>±]) (?=[-+−]?[0-9.])/g; // "k = 6", "≥ 0.95": no-break spaces

  function textNodes(cell) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.data.trim()) nodes.push(node);
    }
    return nodes;
  }

  function keepNumbersTogether() {
    for (const cell of document.querySelectorAll("table.book-table td")) {
      if (cell.querySelector(".math, mjx-container")) continue;
      if (/[A-Za-z]{2,}/.test(cell.textContent)) {
        for (const node of textNodes(cell)) {
          node.data = node.data.replace(RELATION, "\u00a0$1\u00a0");
        }
        continue;
      }
      for (const node of textNodes(cell)) {
        const parts = node.data.split(/ (?=\()/); // break only before a "(" range
        const pieces = parts.flatMap((part, i) => {
          const span = document.createElement("span");
          span.className = "book-nowrap";
          span.textContent = part;
          return i ? [document.createTextNode(" "), span] : [span];
        });
        node.replaceWith(...pieces);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", keepNumbersTogether);
  } else {
    keepNumbersTogether();
  }
})();
