// The consultation form: the item list shows only the items of the picked unit's type, and
// the rule and the value's example follow the picked item (without this script the page
// lists every type's items, grouped, and the table below states each one's rule).
(function () {
  var form = document.querySelector("form[data-adjustment]");
  if (!form) { return; }
  var unit = form.querySelector("#unit");
  var item = form.querySelector("#item");
  var value = form.querySelector("#value");
  var rule = document.getElementById("item-rule");
  var hint = document.getElementById("value-hint");
  var example = hint.getAttribute("data-example-label") || "";

  function unitType() {
    var option = unit.options[unit.selectedIndex];
    return option ? option.getAttribute("data-type") || "" : "";
  }

  function describe() {
    var option = item.options[item.selectedIndex];
    if (!option || !option.value) {
      rule.textContent = rule.getAttribute("data-empty");
      return;
    }
    rule.textContent = option.getAttribute("data-rule");
    hint.textContent = option.getAttribute("data-hint") + " " + example;
    var code = document.createElement("code");
    code.textContent = option.getAttribute("data-example");
    hint.appendChild(code);
    value.placeholder = option.getAttribute("data-example");
  }

  function filter() {
    var type = unitType();
    item.querySelectorAll("optgroup").forEach(function (group) {
      var shown = !type || group.getAttribute("data-type") === type;
      group.hidden = !shown;
      group.disabled = !shown;
    });
    var option = item.options[item.selectedIndex];
    if (option && option.parentNode.disabled) { item.value = ""; }
    describe();
  }

  unit.addEventListener("change", filter);
  item.addEventListener("change", describe);
  filter();
})();
