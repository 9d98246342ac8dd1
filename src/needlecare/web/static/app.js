// needlecare: small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Narrow screens: the main navigation folds behind a Menu button (without JavaScript it stays open).
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("main-nav");
  if (toggle && nav) {
    toggle.hidden = false;
    document.documentElement.classList.add("js");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  }
  // A form that came back with errors: move the focus to its summary, so it is read out and seen first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
  });
  // Before/after: the two aligned face crops on top of each other, with a slider that uncovers the second.
  // Without JavaScript they stay side by side.
  document.querySelectorAll(".pair[data-slider]").forEach(function (pair) {
    var images = pair.querySelectorAll("img");
    if (images.length !== 2) { return; }
    var figure = document.createElement("figure");
    figure.className = "slider";
    var stack = document.createElement("div");
    stack.className = "stack";
    var before = images[0].cloneNode(true);
    var after = images[1].cloneNode(true);
    after.classList.add("after");
    stack.appendChild(before);
    stack.appendChild(after);
    var range = document.createElement("input");
    range.type = "range"; range.min = "0"; range.max = "100"; range.value = "50";
    range.setAttribute("aria-label", "Compare: slide left for more of " + pair.dataset.after +
                       ", right for more of " + pair.dataset.before);
    var caption = document.createElement("figcaption");
    caption.textContent = pair.dataset.before + " on the left, " + pair.dataset.after + " on the right";
    function update() { after.style.clipPath = "inset(0 0 0 " + range.value + "%)"; }
    range.addEventListener("input", update);
    update();
    figure.appendChild(stack);
    figure.appendChild(range);
    figure.appendChild(caption);
    pair.parentNode.insertBefore(figure, pair);
    pair.classList.add("hidden");
  });
  // Capture page: show the chosen photo under the translucent previous photo, and check its quality first.
  var input = document.querySelector("input[data-capture]");
  if (!input) { return; }
  // Two big buttons instead of the browser's file field: the front camera, or a photo already taken.
  var pick = document.querySelector("[data-pick]");
  if (pick) {
    pick.classList.remove("hidden");
    pick.querySelector("[data-pick-camera]").addEventListener("click", function () {
      openCamera(function () { input.setAttribute("capture", "user"); input.click(); });
    });
    pick.querySelector("[data-pick-file]").addEventListener("click", function () {
      input.removeAttribute("capture"); input.click();
    });
  }
  // The front camera inside the page, under the face outline and the faint earlier photo; where the browser
  // cannot show it (no camera, permission refused), the phone's camera app opens instead (*fallback*).
  var video = document.querySelector(".capture video.live");
  var controls = document.querySelector("[data-live-controls]");
  var stream = null;
  function closeCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (video) { video.classList.add("hidden"); video.srcObject = null; }
    if (controls) { controls.classList.add("hidden"); }
  }
  function openCamera(fallback) {
    if (!video || !controls || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fallback(); return;
    }
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1920 }, height: { ideal: 1920 } }, audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.classList.remove("hidden");
      controls.classList.remove("hidden");
      if (empty) { empty.classList.add("hidden"); }
      if (preview) { preview.classList.add("hidden"); }
      return video.play();
    }).catch(function () { closeCamera(); fallback(); });
  }
  if (controls) {
    controls.querySelector("[data-live-cancel]").addEventListener("click", closeCamera);
    controls.querySelector("[data-shoot]").addEventListener("click", function () {
      if (!stream || !video.videoWidth) { return; }
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
        input.files = files.files;
        closeCamera();
        input.dispatchEvent(new Event("change"));
      }, "image/jpeg", 0.95);
    });
  }
  var preview = document.querySelector(".capture .preview");
  var empty = document.querySelector(".capture .empty");
  var out = document.getElementById("quality");
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    if (preview) {
      preview.src = URL.createObjectURL(file);
      preview.classList.remove("hidden");
      if (empty) { empty.classList.add("hidden"); }
    }
    if (!out) { return; }
    out.textContent = "Checking the photo…";
    out.className = "muted";
    var body = new FormData();
    body.append("file", file);
    var isBaseline = input.form.elements.is_baseline;
    if (input.dataset.treatment && !(isBaseline && isBaseline.checked)) {
      body.append("treatment_id", input.dataset.treatment);
    }
    fetch("/api/v1/photos/check", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": input.form.elements.csrf_token.value }
    }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        var status = res[0], j = res[1];
        if (status !== 200) { out.textContent = j.detail || "This photo cannot be used."; out.className = "alert"; return; }
        var w = (j.advice || []).slice();
        if (w.length) { out.textContent = "Before you save: " + w.join(" "); out.className = "warn"; }
        else if (j.baseline && j.baseline.lighting_differs) {
          out.textContent = "Photo quality looks fine. The light differs from your baseline photo; it will be " +
                            "matched on your eyes, but the same place and light is best.";
          out.className = "ok";
        }
        else { out.textContent = "Photo quality looks fine."; out.className = "ok"; }
      }).catch(function () { out.textContent = ""; });
  });
})();
// Treatment form: prefill the browser's time zone.
(function () {
  "use strict";
  var tz = document.querySelector("input[data-timezone]");
  try {
    if (tz && tz.value === "UTC") { tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }
  } catch (e) { /* keep UTC */ }
})();
// Photo page while the photo is measured: ask for its status every second and show the result as soon as it
// is stored (without JavaScript the page refreshes itself every 3 s).
(function () {
  "use strict";
  var pending = document.querySelector("[data-status-url]");
  if (!pending || !window.fetch) { return; }
  var url = pending.getAttribute("data-status-url");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (photo) {
        if (photo && photo.analysis_status !== "pending") { window.location.reload(); }
        else if (tries < 120) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { if (tries < 120) { window.setTimeout(poll, 1000); } });
  }
  window.setTimeout(poll, 700);
})();
