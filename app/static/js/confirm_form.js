/* Every form with data-confirm asks in the same styled dialog the batch actions use (#modal-confirm). */
(function ($) {
  "use strict";
  var pending = null;
  $(document).on("submit", "form[data-confirm]", function (event) {
    var form = this;
    if (form.getAttribute("data-confirmed") === "1") {
      return;
    }
    event.preventDefault();
    var $modal = $("#modal-confirm");
    if (!$modal.length) {
      if (window.confirm($(form).data("confirm"))) { form.setAttribute("data-confirmed", "1"); form.submit(); }
      return;
    }
    pending = form;
    $modal.find(".modal-text").text($(form).data("confirm"));
    $modal.modal("show");
  });
  $(document).on("click", "#modal-confirm-ok", function (event) {
    if (pending === null) {
      return;  /* a batch action's confirmation: ab_actions.js handles it */
    }
    event.preventDefault();
    var form = pending;
    pending = null;
    $("#modal-confirm").modal("hide");
    form.setAttribute("data-confirmed", "1");
    form.submit();
  });
  $(document).on("hidden.bs.modal", "#modal-confirm", function () { pending = null; });
})(jQuery);
