// Inline math never starts a line with the punctuation that follows it, and a display
// equation that scrolls sideways says so (scrolling.js).
//
// Chromium may break a line between an inline formula (an atomic inline box) and a
// comma or full stop right after it, so that "k = 1, 2 and 3" can put "," first on
// a line. Each inline formula is kept together with the punctuation that follows it,
// in a nowrap span.
(function () {
  const PUNCTUATION = /^[,.;:!?)\]]+/;

  function glue() {
    for (const container of document.querySelectorAll("mjx-container:not([display='true'])")) {
      // Sphinx's <span class="math"> around the formula, where there is one
      const math = container.parentElement.matches("span.math") && !container.nextSibling
        ? container.parentElement : container;
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

  function typeset() {
    glue();
    window.bookMarkScrolling(
      "main mjx-container[display='true']", "Wider than the screen: scroll the equation sideways.", 2);
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
