// The job page's progress, kept up to date without reloading: the batch's progress (JSON, with
// the session) is read every two seconds; when the batch ends the page is loaded again to show
// the result. Without script the Refresh link does the same by hand.
(function () {
  "use strict";
  var bar = document.getElementById("progress");
  if (!bar || !window.fetch) { return; }
  var url = bar.getAttribute("data-progress");
  var status = document.getElementById("job-status");
  var text = document.getElementById("progress-text");
  var updates = document.getElementById("updates");
  if (updates) { updates.hidden = false; }

  function show(job) {
    if (job.status !== "queued" && job.status !== "running") {
      window.location.reload();
      return false;
    }
    status.textContent = job.status;
    status.className = "tag " + job.status;
    bar.max = job.total || 1;
    bar.value = job.done;
    bar.textContent = job.done + " of " + job.total;
    var said = job.done + " of " + job.total + " packs built" + (job.current_row ? " (row " + job.current_row + ")" : "") + ".";
    if (text.textContent !== said) { text.textContent = said; }
    return true;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (job) { if (show(job)) { window.setTimeout(poll, 2000); } })
      .catch(function () { window.setTimeout(poll, 5000); });  // the Refresh link still works
  }
  window.setTimeout(poll, 1000);
})();
