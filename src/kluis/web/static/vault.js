// The vault page: one streamed upload per file, each with its own progress and message.
// The API answers refusals as problem+json with a
// localized title.
(function () {
  "use strict";
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("uploads");
  if (!zone || !input || !list) return;
  // Where files go: the citizen's vault, or an office vault (`data-endpoint`).
  const endpoint = zone.dataset.endpoint || "/api/v1/documents";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function row(file) {
    const item = document.createElement("li");
    item.className = "upload";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const status = document.createElement("span");
    status.className = "upload-status";
    item.append(name, bar, status);
    list.append(item);
    return { item, bar, status };
  }

  function upload(file) {
    return new Promise(function (resolve) {
      const view = row(file);
      if (file.size > Number(zone.dataset.max)) {
        view.item.classList.add("refused");
        view.status.textContent = zone.dataset.tooLarge;
        resolve(false);
        return;
      }
      const request = new XMLHttpRequest();
      request.open("POST", endpoint + "?name=" + encodeURIComponent(file.name));
      request.setRequestHeader("x-csrftoken", csrfToken());
      request.setRequestHeader("accept", "application/json");
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) view.bar.value = (100 * event.loaded) / event.total;
      };
      request.onload = function () {
        if (request.status === 201) {
          view.bar.value = 100;
          view.item.classList.add("stored");
          view.status.textContent = zone.dataset.done;
          resolve(true);
          return;
        }
        let message = zone.dataset.failed;
        try {
          message = JSON.parse(request.responseText).title || message;
        } catch (ignored) {}
        view.item.classList.add("refused");
        view.status.textContent = message;
        resolve(false);
      };
      request.onerror = function () {
        view.item.classList.add("refused");
        view.status.textContent = zone.dataset.failed;
        resolve(false);
      };
      request.send(file);
    });
  }

  async function uploadAll(files) {
    let stored = 0;
    for (const file of files) {
      if (await upload(file)) stored += 1;
    }
    if (stored) {
      // Show the new documents and usage; keep the per-file messages a moment.
      setTimeout(function () { window.location.reload(); }, list.querySelector(".refused") ? 4000 : 600);
    }
  }

  input.addEventListener("change", function () { uploadAll(Array.from(input.files)); });
  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    uploadAll(Array.from(event.dataTransfer.files));
  });
})();
