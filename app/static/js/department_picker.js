/* Internal-department picker: when the employer changes, load that employer's departments
   (GET data-departments-url?employer_id=...) into the department <select>. */
(function ($) {
  "use strict";
  var $dept = $("select[data-departments-url]");
  if (!$dept.length) { return; }
  var $employer = $("#employer_id");
  var $blank = $dept.find("option[value='']").first().clone();
  $employer.on("change", function () {
    var employerId = $employer.val();
    $dept.empty().append($blank.clone());
    if (!employerId) { return; }
    $.getJSON($dept.data("departments-url"), { employer_id: employerId }, function (data) {
      $.each(data.results || [], function (_, row) {
        $dept.append($("<option>").val(row.id).text(row.text));
      });
    });
  });
})(jQuery);
