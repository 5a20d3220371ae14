// The message form of a dossier: a running count of the body's characters against its
// maximum (counted as the server counts: characters, a line end as one). Above it the
// count turns red and says so; the server refuses such a message (422), it never cuts it.
(function () {
  "use strict";
  const body = document.getElementById("message-body");
  const counter = document.getElementById("body-count");
  if (!body || !counter) return;
  const max = parseInt(body.dataset.max, 10);

  function update() {
    const count = Array.from(body.value.replace(/\r\n/g, "\n")).length;
    const over = count > max;
    counter.textContent = count + " / " + max + (over ? " — " + counter.dataset.over : "");
    counter.classList.toggle("over", over);
    body.setAttribute("aria-invalid", over ? "true" : "false");
  }

  body.addEventListener("input", update);
  update();
})();
