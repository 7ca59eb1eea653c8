/* 共治 Gongzhi — the shell's two small enhancements (the pages work without them).
 *
 * 1. On a phone the header's tools and navigation fold behind one "菜单" button, so the page
 *    content starts in the first screen (issue: the header took a third of a 390-px screen).
 * 2. Below 600 px tables are shown as cards (gongzhi.css); each cell gets its column's heading
 *    as data-label, which the CSS writes before the value.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function labelTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      var labels = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[col]) cell.setAttribute("data-label", labels[col]);
          col += cell.colSpan || 1;
        });
      });
    });
  }

  function setUpMenu() {
    var header = document.querySelector(".site-header");
    var toggle = document.querySelector(".menu-toggle");
    if (!header || !toggle) return;
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("is-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function ready() {
    setUpMenu();
    labelTables(document);
    // htmx swaps in new rows (queues, rooms): label those too.
    document.body.addEventListener("htmx:afterSwap", function (event) { labelTables(event.target.closest("main") || document); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
