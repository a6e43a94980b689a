/* 人员调出: choosing a person fills in their data (read-only) from the scoped card endpoint. */
(function ($) {
  "use strict";
  var $person = $("#person_id");
  if (!$person.length) { return; }
  var $cells = $("#person-card [data-field]");
  var $pending = $("#card-pending");
  $person.on("change", function () {
    var id = $person.val();
    $cells.text("");
    $pending.addClass("hidden").text("");
    if (!id) { return; }
    $.getJSON($person.data("card-url").replace("__id__", encodeURIComponent(id)), function (card) {
      $cells.each(function () { $(this).text(card[$(this).data("field")] || ""); });
      if (card.pending) { $pending.text(card.pending).removeClass("hidden"); }
    });
  });
})(jQuery);
