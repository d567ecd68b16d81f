// File fields marked data-file show a button and the chosen file's name in the page's language
// (the browser's own button follows the browser's language, not the page's). Without this
// script the browser's own file field is shown, and works the same.
document.querySelectorAll("[data-file]").forEach(function (box) {
  var input = box.querySelector("input[type=file]");
  var name = box.querySelector("[data-file-name]");
  var none = name.textContent;
  box.classList.add("file-js");
  input.addEventListener("change", function () {
    name.textContent = input.files.length ? input.files[0].name : none;
  });
});
