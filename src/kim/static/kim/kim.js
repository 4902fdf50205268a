// After an htmx swap, move focus to the first error or success message so that
// keyboard and screen-reader users learn the result of their input.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  var message = document.querySelector("#form-errors") || (target && target.querySelector(".kern-alert"));
  if (message) {
    message.setAttribute("tabindex", "-1");
    message.focus();
  }
});
