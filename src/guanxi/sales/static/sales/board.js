// Sales board: drag a deal card onto another stage's column to move it. The move is an
// HTMX POST that answers the re-read board; a refused move answers 4xx with the board as it
// was and the reason on top, which we swap in too (htmx skips error answers by default).
// No inline scripts or styles: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var dragged = null;

  function columnOf(element) {
    return element && element.closest ? element.closest("[data-stage-drop]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-deal-card][draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("opacity-50");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal-card"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("opacity-50");
    document.querySelectorAll("[data-stage-drop].drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
    dragged = null;
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    var stage = column.getAttribute("data-stage-drop");
    if (stage === card.getAttribute("data-stage")) return;
    column.querySelector("[data-cards]").prepend(card);
    window.htmx.ajax("POST", card.getAttribute("data-move-url"), {
      target: "#board",
      swap: "outerHTML",
      values: { stage: stage, version: card.getAttribute("data-version") }
    });
  });

  // A refused move (400 required fields, 403 not yours to edit, 409 stale) still carries the
  // board to show: swap it in so the card returns to its column and the reason is visible.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (event.detail.target && event.detail.target.id === "board" &&
        (status === 400 || status === 403 || status === 409)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
