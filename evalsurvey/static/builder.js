// The questionnaire builder's live preview: as an item's form is edited, ask the server for
// the phone preview of the unsaved item (action=preview) and show it. Without this script
// the "preview" button does the same with a page load; nothing is saved either way.
(function () {
  var phone = document.getElementById("phone");
  if (!phone || !window.fetch || !window.FormData) { return; }
  var timer = null;
  var asked = 0;
  function refresh(form) {
    var data = new FormData(form);
    data.set("action", "preview");
    var mine = ++asked;
    // not form.action: the form's buttons are named "action", which shadows it
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST", body: data, headers: { "X-Preview": "1" }, credentials: "same-origin"
    }).then(function (response) { return response.text(); }).then(function (html) {
      if (mine === asked) { phone.innerHTML = html; }  // only the latest answer counts
    }).catch(function () { /* offline: the button still works */ });
  }
  document.querySelectorAll("form.item-form").forEach(function (form) {
    ["input", "change"].forEach(function (kind) {
      form.addEventListener(kind, function () {
        clearTimeout(timer);
        timer = setTimeout(function () { refresh(form); }, 350);
      });
    });
  });
})();
