// Numbers in the book's tables (book.tables) never break across lines (a table that
// scrolls sideways says so: scrolling.js).
//
// A cell of numbers -- "0.9767 ± 0.0003", "+0.1213 [-0.1346, +0.3772]" -- is kept on
// one line (a nowrap span); one that adds a range in parentheses, "0.3039 ± 0.1183
// (0.2349–0.4405)", may put the range under the estimate in a narrow column, but no
// number, estimate or interval is split. Cells with words ("head, k = 6 (smallest
// ≥ 0.95)", "+0.0315 [+0.0079, +0.0910]: KD better") wrap, but never inside "k = 6",
// "≥ 0.95", an estimate or its interval. Cells with math are left
// alone. Without this script only the right-aligned (numeric) cells are kept on one
// line, by custom.css.
(function () {
  const RELATION = / ([=≥≤<>±]) (?=[-+−]?[0-9.])/g; // "k = 6", "≥ 0.95": no-break spaces
  const NUMBER = "[-+−]?[0-9]+(?:\\.[0-9]+)?";
  const INTERVAL = new RegExp(`(${NUMBER}) (\\[${NUMBER}, ${NUMBER}\\])`, "g");
  // "+0.0315 [+0.0079, +0.0910]" (an estimate and its interval) or "1e-7" (which a
  // browser may break after its hyphen)
  const KEEP = new RegExp(`${INTERVAL.source}|[0-9.]+e-[0-9]+`, "g");

  function nowrap(text) {
    const span = document.createElement("span");
    span.className = "book-nowrap";
    span.textContent = text;
    return span;
  }

  function textNodes(cell) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.data.trim()) nodes.push(node);
    }
    return nodes;
  }

  // Headers and worded cells: "KD (T = 20)" never breaks inside, and "alone − fused" or
  // "pruned + shared" never leaves the sign alone at a line's end or start.
  const OPERATOR = / ([−+]) /g;
  const joined = (text) => text.replace(RELATION, "\u00a0$1\u00a0").replace(OPERATOR, "\u00a0$1 ");
  // a cell of words, not of numbers
  const WORDS = /[A-Za-z]{2,}/;

  // "width w": a symbol after its word never sits alone on a line
  const LAST_SYMBOL = / ([A-Za-zα-ω])$/;
  // "seed 1", "width 2, 1,287.4×": a short number stays with the word before it
  const SHORT_NUMBER = / ([0-9]{1,3})(?=[,;)](?![0-9])|$)/g;

  function keepHeadersTogether() {
    for (const cell of document.querySelectorAll("table.book-table th")) {
      for (const node of textNodes(cell)) {
        node.data = joined(node.data).replace(LAST_SYMBOL, "\u00a0$1");
      }
    }
  }

  function keepNumbersTogether() {
    for (const cell of document.querySelectorAll("table.book-table td")) {
      if (cell.querySelector(".math, mjx-container")) continue;
      if (WORDS.test(cell.textContent)) {
        for (const node of textNodes(cell)) {
          node.data = joined(node.data).replace(SHORT_NUMBER, "\u00a0$1");
          // the estimate and the interval each on one line (a narrow column may put
          // the interval under the estimate); an exponent whole
          const text = node.data;
          const parts = [];
          let last = 0;
          for (const match of text.matchAll(KEEP)) {
            parts.push(document.createTextNode(text.slice(last, match.index)));
            if (match[2]) {
              parts.push(nowrap(match[1]), document.createTextNode(" "), nowrap(match[2]));
            } else {
              parts.push(nowrap(match[0]));
            }
            last = match.index + match[0].length;
          }
          if (!parts.length) continue;
          parts.push(document.createTextNode(text.slice(last)));
          node.replaceWith(...parts);
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

  // Cells of more than a few words (custom.css gives them a minimum width on a phone,
  // so that they do not wrap a word per line); short ones ("training", "k") stay narrow.
  const LONG = { TD: 12, TH: 12 }; // characters

  function markLongText() {
    for (const cell of document.querySelectorAll("table.book-table td, table.book-table th")) {
      const text = cell.textContent.trim();
      if (WORDS.test(text) && text.length > LONG[cell.tagName]) cell.classList.add("book-words");
    }
  }

  function start() {
    keepHeadersTogether();
    keepNumbersTogether();
    markLongText();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
