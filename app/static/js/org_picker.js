/* Search-as-you-type pickers: any <select data-url> becomes a Select2 that asks the server for at most
   20 matches instead of listing a whole table. Selects added later (search filter rows) are picked up
   too, and a filter already applied (?_flt_N_field=id) shows its chosen value again. */
(function ($) {
  "use strict";
  var language = {
    searching: function () { return "正在搜索…"; },
    noResults: function () { return "没有匹配的结果"; },
    errorLoading: function () { return "无法载入结果"; },
    inputTooShort: function () { return "请输入关键字"; }
  };

  function appliedValue(name) {
    var params = new URLSearchParams(window.location.search);
    return name && name.indexOf("_flt_") === 0 ? params.get(name) : null;
  }

  function init(el) {
    var $el = $(el);
    if ($el.hasClass("select2-hidden-accessible")) { return; }  // already a picker
    var url = $el.data("url");
    $el.select2({
      theme: "bootstrap",
      width: "100%",
      allowClear: !$el.prop("required"),
      placeholder: $el.data("placeholder") || "",
      minimumInputLength: 0,
      language: language,
      ajax: {
        url: url,
        dataType: "json",
        delay: 250,
        data: function (params) { return { q: params.term || "" }; },
        processResults: function (data) { return data; }
      }
    });
    var chosen = appliedValue($el.attr("name"));
    if (chosen && !$el.val()) {
      $.getJSON(url, { id: chosen }, function (data) {
        $.each(data.results, function (_, row) {
          $el.append(new Option(row.text, row.id, true, true)).trigger("change");
        });
      });
    }
  }

  $(function () {
    $("select[data-url]").each(function () { init(this); });
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        $(m.addedNodes).find("select[data-url]").addBack("select[data-url]").each(function () {
          // FAB sets the filter's name after inserting the element: wait a tick
          var el = this;
          window.setTimeout(function () { init(el); }, 0);
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})(jQuery);
