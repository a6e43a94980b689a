/* 角色管理's permission picker: ticking 维护/审核 ticks 查看 of the same screen; unticking 查看 unticks it. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".grant-picker input[type=checkbox]")) { return; }
    var row = box.closest("tr");
    if (!row) { return; }
    var read = row.querySelector("input[data-level=read]");
    var write = row.querySelector("input[data-level=write]");
    if (box === write && write.checked && read) { read.checked = true; }
    if (box === read && !read.checked && write) { write.checked = false; }
  });
})();
