// Inline math never starts a line with the punctuation that follows it, and a display
// equation that scrolls sideways says so.
//
// Chromium may break a line between an inline formula (an atomic inline box) and a
// comma or full stop right after it, so that "k = 1, 2 and 3" can put "," first on
// a line. Each inline formula is kept together with the punctuation that follows it,
// in a nowrap span.
(function () {
  const PUNCTUATION = /^[,.;:!?)\]]+/;

  function glue() {
    for (const math of document.querySelectorAll("mjx-container:not([display='true'])")) {
      const next = math.nextSibling;
      if (!next || next.nodeType !== Node.TEXT_NODE) continue;
      const match = next.data.match(PUNCTUATION);
      if (!match) continue;
      const span = document.createElement("span");
      span.className = "book-nowrap-math";
      span.style.whiteSpace = "nowrap";
      math.before(span);
      span.append(math, document.createTextNode(match[0]));
      next.data = next.data.slice(match[0].length);
    }
  }

  // A display equation wider than the column (on a phone) scrolls sideways
  // (custom.css); a line under it says so, only where it does.
  const SCROLL_NOTE = "Wider than the screen: scroll the equation sideways.";

  function markScrollingEquations() {
    for (const math of document.querySelectorAll("main mjx-container[display='true']")) {
      let note = math.nextElementSibling;
      if (!note || !note.classList.contains("book-table-note")) {
        note = document.createElement("p");
        note.className = "book-table-note";
        note.textContent = SCROLL_NOTE;
        math.after(note);
      }
      math.classList.toggle("book-math-scrolls", math.scrollWidth > math.clientWidth + 2);
    }
  }

  function typeset() {
    glue();
    markScrollingEquations();
    window.addEventListener("resize", markScrollingEquations);
  }

  // MathJax typesets after the page loads; act once it has.
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(typeset);
    } else {
      window.addEventListener("load", () => setTimeout(whenTypeset, 100));
    }
  }

  whenTypeset();
})();
