/* The menu tree: the entry of the open page is marked, module headings fold and unfold. */
(function () {
  "use strict";

  function base(path) {
    // /persons/list/ and /persons/show/12 belong to the same entry
    return path.replace(/\/(list|show|add|edit)(\/.*)?$/, "/").replace(/\/+$/, "/");
  }

  function markCurrent(tree) {
    var here = base(window.location.pathname);
    var best = null;
    var bestLength = 0;
    tree.querySelectorAll("a[data-menu]").forEach(function (link) {
      var target = base(new URL(link.getAttribute("href"), window.location.href).pathname);
      if (here.indexOf(target) === 0 && target.length > bestLength) {
        best = link;
        bestLength = target.length;
      }
    });
    if (best) {
      best.parentNode.classList.add("active");
      best.setAttribute("aria-current", "page");
    }
  }

  function foldable(tree) {
    tree.querySelectorAll(".gov-menu-section-title").forEach(function (title) {
      title.addEventListener("click", function (event) {
        event.preventDefault();
        var section = title.parentNode;
        var folded = section.classList.toggle("folded");
        title.setAttribute("aria-expanded", folded ? "false" : "true");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tree = document.getElementById("main-menu-tree");
    if (!tree) { return; }
    markCurrent(tree);
    foldable(tree);
  });
})();
