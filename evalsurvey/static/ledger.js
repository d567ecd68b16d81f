// The ledger page's "select all on this page" and "select none": tick or clear the page's
// boxes in place. Without this script the two links load the page with every box ticked
// or none.
(function () {
  var form = document.getElementById("bulk");
  if (!form) { return; }
  function pick(on) {
    return function (event) {
      event.preventDefault();
      form.querySelectorAll('input[name="items"]').forEach(function (box) { box.checked = on; });
    };
  }
  var all = document.getElementById("pick-all");
  var none = document.getElementById("pick-none");
  if (all) { all.addEventListener("click", pick(true)); }
  if (none) { none.addEventListener("click", pick(false)); }
})();
