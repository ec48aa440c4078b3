/* The case page: a form marked data-confirm (send back, hold, cancel) asks before it is sent.
   A listener in a file, not an inline handler: the Content-Security-Policy allows no inline code. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
