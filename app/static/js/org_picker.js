/* Search-as-you-type organisation picker: any <select data-url> becomes a Select2 that asks the
   server for at most 20 matches instead of listing every organisation. */
(function ($) {
  "use strict";
  $("select[data-url]").each(function () {
    var $el = $(this);
    if ($el.hasClass("select2-hidden-accessible")) { return; }  // already a picker
    $el.select2({
      theme: "bootstrap",
      width: "100%",
      allowClear: !$el.prop("required"),
      placeholder: $el.data("placeholder") || "",
      minimumInputLength: 0,
      language: {
        searching: function () { return "正在搜索…"; },
        noResults: function () { return "没有匹配的结果"; },
        errorLoading: function () { return "无法载入结果"; },
        inputTooShort: function () { return "请输入关键字"; }
      },
      ajax: {
        url: $el.data("url"),
        dataType: "json",
        delay: 250,
        data: function (params) { return { q: params.term || "" }; },
        processResults: function (data) { return data; }
      }
    });
  });
})(jQuery);
