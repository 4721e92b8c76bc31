// Inbox keyboard shortcuts (listed on the "?" overlay). Keys are ignored while typing.
(function () {
  "use strict";
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#mention-rows tr.mention")); }
  function focus(i) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }
  function here() { return rows()[current]; }
  function selectHereIfNone() {
    var checked = document.querySelectorAll("#mention-rows input[name=ids]:checked");
    if (!checked.length && here()) {
      var box = here().querySelector("input[name=ids]");
      if (box) box.checked = true;
    }
  }
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var key = ev.key;
    if (key === "?") { document.getElementById("help").showModal(); ev.preventDefault(); return; }
    if (key === "j") { focus(current + 1); return; }
    if (key === "k") { focus(current - 1); return; }
    var row = here();
    if (!row) return;
    if (key === "Enter" || key === "o") { window.location = row.dataset.url; return; }
    if (key === "r") { window.location = row.dataset.url + "#reply"; return; }
    if (key === "x") { var box = row.querySelector("input[name=ids]"); if (box) box.checked = !box.checked; return; }
    if (key === "a") { selectHereIfNone(); var s = document.querySelector("#bulk select[name=assignee]"); if (s) s.focus(); ev.preventDefault(); return; }
    if (key === "e") { selectHereIfNone(); var b = document.getElementById("bulk-close"); if (b) b.click(); }
  });
})();
