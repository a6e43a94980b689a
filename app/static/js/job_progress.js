/* Live progress bars of background jobs (templates/jobs/_progress.html): poll each unfinished job's
   status URL every second and update its bar; when it finishes, show its download link, and reload
   the page if the bar asks for it (data-reload-on-finish, e.g. an import preview). */
(function ($) {
  "use strict";
  var INTERVAL = 1000;

  function render($box, state) {
    var $bar = $box.find(".progress-bar");
    $bar.css("width", state.percent + "%").attr("aria-valuenow", state.percent).text(state.percent + "%");
    $box.find(".job-status").text(state.status_label);
    $box.find(".job-count").text(state.total ? state.done + " / " + state.total : "");
    $box.find(".job-message").text(state.message || "");
    if (state.finished) {
      $bar.removeClass("progress-bar-striped active")
        .addClass(state.status === "failed" ? "progress-bar-danger" : "progress-bar-success");
      if (state.download_url) {
        $box.find(".job-download").attr("href", state.download_url).removeClass("hidden");
      }
      $box.attr("data-finished", "true");
      if ($box.closest("[data-reload-on-finish]").length) {
        window.location.reload();
      }
    }
  }

  function poll($box) {
    $.ajax({url: $box.data("status-url"), dataType: "json", cache: false})
      .done(function (state) {
        render($box, state);
        if (!state.finished) {
          window.setTimeout(function () { poll($box); }, INTERVAL);
        }
      })
      .fail(function () {
        window.setTimeout(function () { poll($box); }, INTERVAL * 3);
      });
  }

  $(function () {
    $(".job-progress[data-finished='false']").each(function () {
      poll($(this));
    });
  });
})(jQuery);
