// Live tail of an operation's log: polls the JSON endpoint until the operation ends.
(function () {
  "use strict";
  var box = document.getElementById("operation");
  if (!box) { return; }
  var url = box.dataset.tailUrl;
  var after = parseInt(box.dataset.lastLine || "0", 10);
  var log = document.getElementById("op-log");
  var statusEl = document.getElementById("op-status");
  var attemptsEl = document.getElementById("op-attempts");
  var errorEl = document.getElementById("op-error");

  function poll() {
    fetch(url + "?after=" + after, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        data.lines.forEach(function (line) {
          log.appendChild(document.createTextNode(line.at.substring(11, 19) + "  " + line.line + "\n"));
          after = line.id;
        });
        if (statusEl.textContent !== data.status) {
          statusEl.textContent = data.status;
          statusEl.className = "status status-" + data.status;
        }
        attemptsEl.textContent = data.attempts + " / " + data.max_attempts;
        errorEl.textContent = data.error || "—";
        if (data.finished) {
          // Enable or disable the buttons to match the final state.
          if (box.dataset.finished !== "true") { window.location.reload(); }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
