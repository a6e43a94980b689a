/* Forms with data-confirm ask before submitting (withdrawing a request cannot be undone). */
(function ($) {
  "use strict";
  $(document).on("submit", "form[data-confirm]", function (event) {
    if (!window.confirm($(this).data("confirm"))) {
      event.preventDefault();
    }
  });
})(jQuery);
