/* Row actions of list pages: 删除 asks in the page's own dialog before it posts (no inline script). */
(function ($) {
  "use strict";
  $(document).on("click", "a[data-delete-url]", function (event) {
    event.preventDefault();
    var link = $(this);
    new AdminActions().execute_single_delete(link.data("delete-url"), link.data("confirm"));
  });
})(jQuery);
