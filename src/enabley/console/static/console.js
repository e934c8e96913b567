// Progressive enhancement only: every page works without this file.
"use strict";
(function () {
  function csrf() {
    var main = document.getElementById("main");
    return main ? main.getAttribute("data-csrf") : "";
  }
  window.enableyConsole = { csrf: csrf };
})();
