/* The window's item picker: filter the items as the clerk types (progressive enhancement —
 * without JavaScript the 搜索 button asks the server, which uses the same keys).
 * Each item carries its keys in data-picker-item: code, name, pinyin initials and syllables
 * (computed on the server by services.domain.catalog_search). Every typed word must occur. */
(function () {
  "use strict";
  var input = document.querySelector("[data-picker-filter]");
  if (!input) { return; }
  var status = document.getElementById("picker-count");
  var template = input.getAttribute("data-found-template") || "";
  function normalise(text) { return text.toLowerCase().replace(/[\s\-_.]+/g, " ").trim(); }
  function apply() {
    var words = normalise(input.value).split(" ").filter(Boolean);
    var found = 0;
    document.querySelectorAll("[data-picker-group]").forEach(function (group) {
      var any = false;
      group.querySelectorAll("[data-picker-item]").forEach(function (row) {
        var keys = row.getAttribute("data-picker-item");
        var compact = keys.replace(/[\s\-_.]+/g, "");
        var box = row.querySelector("input");
        var hit = words.every(function (w) { return keys.indexOf(w) !== -1 || compact.indexOf(w.replace(/\s+/g, "")) !== -1; });
        var show = hit || (box && box.checked);
        row.hidden = !show;
        if (hit) { found += 1; }
        if (show) { any = true; }
      });
      group.hidden = words.length > 0 && !any;
      if (words.length > 0) { group.open = any; }
    });
    if (status) { status.textContent = words.length ? template.replace("{n}", String(found)) : ""; }
  }
  input.addEventListener("input", apply);
  // Enter in the filter box filters here rather than submitting the whole form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); apply(); }
  });
}());
