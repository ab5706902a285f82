// Guanxi's page behaviour: no inline scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function showToasts(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll(".toast[data-autoshow]").forEach(function (element) {
      element.removeAttribute("data-autoshow");
      window.bootstrap.Toast.getOrCreateInstance(element, { delay: 6000 }).show();
    });
  }

  function toast(text, level) {
    var container = document.getElementById("toasts");
    if (!container) return;
    var element = document.createElement("div");
    element.className = "toast align-items-center border-0 text-bg-" + (level || "secondary");
    element.setAttribute("role", "status");
    element.setAttribute("data-autoshow", "");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    element.appendChild(body);
    container.appendChild(element);
    showToasts(container);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent.trim());
          toast(button.getAttribute("data-copied") || "Copied", "success");
        }
      });
    });
  });

  // A view answers an htmx request with HX-Trigger: {"toast": {"text": "...", "level": "success"}}.
  document.addEventListener("toast", function (event) {
    toast(event.detail.text, event.detail.level);
  });
  document.addEventListener("htmx:afterSwap", function (event) { showToasts(event.target); });
  document.addEventListener("htmx:responseError", function (event) {
    var text = document.body.getAttribute("data-error-text") || "Request failed";
    try {
      var problem = JSON.parse(event.detail.xhr.responseText);
      if (problem.detail) text = problem.detail;
    } catch (ignored) { /* an HTML error page: keep the generic text */ }
    toast(text, "danger");
  });
})();

// Customer form: show the individual or organisation section that fits the chosen kind.
(function () {
  "use strict";
  function sync(form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) return;
    var person = kind.value === "person";
    form.querySelectorAll("[data-section=person]").forEach(function (el) { el.hidden = !person; });
    form.querySelectorAll("[data-section=organisation]").forEach(function (el) { el.hidden = person; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-kind-form]").forEach(function (form) {
      sync(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") sync(form);
      });
    });
  });
})();

// Forms marked data-confirm ask before they submit (deletions).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
}, true);
