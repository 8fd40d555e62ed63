// Progressive enhancement only: every page works without this file.
// Adds a "Copy" button to command blocks.
document.querySelectorAll("pre > code").forEach(function (code) {
  if (!navigator.clipboard) return;
  var b = document.createElement("button");
  b.type = "button";
  b.className = "copy";
  b.textContent = "Copy";
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(code.textContent).then(function () {
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = "Copy"; }, 1500);
    });
  });
  code.parentNode.insertBefore(b, code);
});
