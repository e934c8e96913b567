// Progressive enhancement: every page but the upload form works without this file.
"use strict";
(function () {
  function csrf() {
    var main = document.getElementById("main");
    return main ? main.getAttribute("data-csrf") : "";
  }

  function readFiles(files) {
    return Promise.all(Array.prototype.map.call(files, function (file) {
      return file.text().then(function (content) { return {fileName: file.name, content: content}; });
    }));
  }

  function follow(statusUrl, page, bar, count) {
    fetch(statusUrl, {headers: {Accept: "application/json"}}).then(function (answer) {
      return answer.json();
    }).then(function (job) {
      if (job.total) {
        bar.max = job.total;
        bar.value = job.done;
        count.textContent = job.done + " of " + job.total + " rows checked";
      } else {
        count.textContent = "Waiting for a worker (" + job.status + ")";
      }
      if (job.status === "succeeded" || job.status === "failed") {
        window.location.assign(page);
      } else {
        window.setTimeout(function () { follow(statusUrl, page, bar, count); }, 300);
      }
    });
  }

  function upload(form, files) {
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    var count = document.getElementById("upload-count");
    var check = document.getElementById("validate-only");
    box.hidden = false;
    count.textContent = "Sending the files";
    readFiles(files).then(function (parts) {
      var url = form.getAttribute("data-action") + (check && check.checked ? "?validate_only=true" : "");
      return fetch(url, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json"},
        body: JSON.stringify({files: parts})
      });
    }).then(function (answer) {
      return answer.json().then(function (body) { return {ok: answer.ok, body: body}; });
    }).then(function (sent) {
      if (!sent.ok) {
        count.textContent = "Refused: " + (sent.body.error_description || sent.body.error);
        return;
      }
      follow(sent.body.statusUrl, sent.body.page, bar, count);
    });
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var input = document.getElementById("upload-files");
    var zone = document.getElementById("drop-zone");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.files.length) { upload(form, input.files); }
    });
    zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      upload(form, event.dataTransfer.files);
    });
  }

  // Figures that read every enrolment come after the page: filled in where the page left "…".
  function fillFigures() {
    var waiting = document.querySelectorAll("[data-figure]");
    var pending = Array.prototype.filter.call(waiting, function (el) { return el.textContent.trim() === "\u2026"; });
    if (!pending.length) { return; }
    fetch("/console/figures", {headers: {Accept: "application/json"}}).then(function (answer) {
      return answer.json();
    }).then(function (found) {
      pending.forEach(function (el) {
        var value = found[el.getAttribute("data-figure")];
        var key = el.getAttribute("data-key");
        if (key !== null) { value = (value || {})[key] || 0; }
        el.textContent = String(value);
      });
    });
  }

  window.enableyConsole = {csrf: csrf};
  document.addEventListener("DOMContentLoaded", setUpUpload);
  document.addEventListener("DOMContentLoaded", fillFigures);
})();
