// Knowledge base → reply box: a click on [data-kb-insert] fetches the article's text
// (the snippet URL) and inserts it at the cursor of the textarea named by data-kb-target.
// Served as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function insert(textarea, text) {
    var start = textarea.selectionStart || textarea.value.length;
    var end = textarea.selectionEnd || start;
    var before = textarea.value.slice(0, start);
    var spacer = before && !/\n\n$/.test(before) ? "\n\n" : "";
    textarea.value = before + spacer + text + textarea.value.slice(end);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) return;
    event.preventDefault();
    var textarea = document.getElementById(button.getAttribute("data-kb-target"));
    if (!textarea) return;
    fetch(button.getAttribute("data-kb-insert"), { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (text) {
        insert(textarea, text);
      })
      .catch(function () {
        button.classList.add("btn-outline-danger");
      });
  });
})();
