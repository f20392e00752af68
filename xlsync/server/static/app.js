// xlsync serve: small conveniences for the search page. No inline script anywhere: the
// Content-Security-Policy allows scripts from this file only. Nothing here builds HTML.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("q");
  if (box) {
    if (!box.value) { box.focus(); }
    box.addEventListener("focus", function () { box.select(); });
  }
  var verdict = document.getElementById("verdict");
  if (verdict && verdict.scrollIntoView) { verdict.scrollIntoView({block: "nearest"}); }
});
