// While a sync runs, its progress on the integration's page follows the run by itself;
// when the run ends the page reloads, so the state and the run history show its result.
(function () {
  "use strict";
  const POLL_MS = 2000;

  function follow(box) {
    const bar = box.querySelector("progress");
    const text = box.querySelector("span");
    function poll() {
      fetch(box.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => response.json())
        .then((state) => {
          bar.value = state.progress;
          text.textContent = state.text;
          if (state.sync_status === "running") {
            setTimeout(poll, POLL_MS);
          } else {
            window.location.reload();
          }
        })
        .catch(() => setTimeout(poll, POLL_MS * 3));
    }
    setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".sync-progress[data-status='running']").forEach(follow);
  });
})();
