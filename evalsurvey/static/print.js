// Buttons marked data-print open the browser's print dialog (the page prints without this too).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
