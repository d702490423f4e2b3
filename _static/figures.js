// A figure is never shown narrower than 520 px (custom.css), so on a phone it is wider
// than the text column and scrolls sideways. Where it does, a line under it says so,
// and a tap opens the drawing on its own, where the reader can zoom it.
(function () {
  const NOTE = "Wider than the screen: scroll it sideways, or tap it to open it full size.";

  function containerOf(img) {
    return img.closest("figure") || img.parentElement;
  }

  function update() {
    for (const img of document.querySelectorAll("main figure img, main div.cell_output > img")) {
      const box = containerOf(img);
      let note = box.querySelector(":scope > .book-scroll-note");
      if (!note) {
        note = document.createElement("p");
        note.className = "book-scroll-note";
        note.textContent = NOTE;
        const caption = box.querySelector(":scope > figcaption");
        box.insertBefore(note, caption || null);
        img.addEventListener("click", () => {
          if (box.classList.contains("book-figure-scrolls")) window.open(img.src, "_blank");
        });
      }
      box.classList.toggle("book-figure-scrolls", box.scrollWidth > box.clientWidth + 1);
    }
  }

  if (document.readyState === "complete") {
    update();
  } else {
    window.addEventListener("load", update);
  }
  window.addEventListener("resize", update);
})();
