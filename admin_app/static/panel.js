// What every screen of the panel does in the browser, once for all (included by panel_base.html):
// - accessible names for the controls Flask-Admin's widgets build (WCAG 4.1.2): a select2 box is a
//   link whose only text is the chosen value (none while empty), and Bootstrap's tooltip moves a
//   help icon's title away; done after the widgets are made, and again for ones added later
//   (inline forms' "Add", filters);
// - a list cell cut short to keep its row on one line (panel.css) shows its whole text on hover.
(function () {
  "use strict";

  function labelText(id) {
    var label = id && document.querySelector('label[for="' + CSS.escape(id) + '"]');
    return label ? label.textContent.replace(/\s+/g, " ").replace(/\s*\*\s*$/, "").trim() : "";
  }

  function nameSelect2(container) {
    // Flask-Admin's select2 3.5 names its box "s2id_<field id>".
    var name = labelText(container.id.replace(/^s2id_/, "")) ||
      (container.nextElementSibling && container.nextElementSibling.getAttribute("aria-label")) || "";
    if (!name) return;
    container.querySelectorAll("a.select2-choice, input.select2-input, input.select2-focusser").forEach(function (control) {
      if (!control.getAttribute("aria-label")) control.setAttribute("aria-label", name);
    });
  }

  function nameHelpIcon(icon) {
    var help = icon.getAttribute("data-original-title") || icon.getAttribute("title") || "";
    if (help && !icon.getAttribute("aria-label")) icon.setAttribute("aria-label", help);
  }

  function titleCutCells() {
    document.querySelectorAll("table.model-list td").forEach(function (cell) {
      if (cell.scrollWidth > cell.clientWidth && !cell.title) cell.title = cell.textContent.replace(/\s+/g, " ").trim();
    });
  }

  function nameAll(root) {
    root.querySelectorAll('div.select2-container[id^="s2id_"]').forEach(nameSelect2);
    root.querySelectorAll('a[data-role="tooltip"]').forEach(nameHelpIcon);
  }

  window.addEventListener("load", function () {
    nameAll(document);
    titleCutCells();
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) nameAll(node.parentNode || node);
        });
      });
    }).observe(document.body, {childList: true, subtree: true});
  });
})();
