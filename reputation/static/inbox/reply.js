// The mention page: presence of the reply box (who else is replying), the cooling-off
// countdown and the copy button. Plain JS, no dependencies, no network but our own.
(function () {
  "use strict";
  var box = document.getElementById("reply-box");
  var banner = document.getElementById("presence");
  var text = document.getElementById("reply-text");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var active = false;

  function show(others) {
    if (!banner) return;
    if (others.length) {
      banner.textContent = others.join(", ") + (others.length === 1 ? " is replying" : " are replying");
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  function beat() {
    if (!box || document.hidden) return;
    var url = box.dataset.presenceUrl;
    var options = { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (active && csrf) {
      var body = new URLSearchParams({ active: "1" });
      options.method = "POST";
      options.body = body;
      options.headers["X-CSRFToken"] = csrf.value;
    }
    fetch(url, options)
      .then(function (r) { return r.ok ? r.json() : { others: [] }; })
      .then(function (data) { show(data.others || []); })
      .catch(function () {});
  }

  if (box) {
    var start = function () {
      if (!active) { active = true; beat(); }
    };
    document.querySelectorAll("#reply-box textarea, #replies form.reply-edit textarea").forEach(function (t) {
      t.addEventListener("focus", start);
      t.addEventListener("input", start);
    });
    // A browser that goes away stops the heartbeat; the row expires by itself, and a
    // polite goodbye removes it at once.
    window.addEventListener("pagehide", function () {
      if (active && csrf && navigator.sendBeacon) {
        var data = new FormData();
        data.append("active", "0");
        data.append("csrfmiddlewaretoken", csrf.value);
        navigator.sendBeacon(box.dataset.presenceUrl, data);
      }
    });
    var every = Number(box.dataset.heartbeatMs || 5000);
    setInterval(beat, every);
    beat();
  }

  function tick() {
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var left = Math.round((new Date(el.dataset.until) - new Date()) / 1000);
      if (left <= 0) {
        el.textContent = "over: sending within a minute";
        return;
      }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = "sends in " + m + ":" + (s < 10 ? "0" : "") + s;
    });
  }
  tick();
  setInterval(tick, 1000);

  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.text);
      b.textContent = "Copied";
    });
  });
})();
