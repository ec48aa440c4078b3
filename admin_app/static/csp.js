/* Runs the click handlers that Flask-Admin 2.2's templates write inline (onclick="..."), which
   the Content-Security-Policy blocks. The app compiles those templates with the attribute
   renamed to data-fa-onclick (admin_app/headers.py); this listener sees every click first
   (capture phase, where the inline handler would have run) and does what the handler said.
   A handler of any other shape is reported, so that the browser tests name it.
   It also keeps href="javascript:void(0)" links from navigating: the policy blocks that too. */
(function () {
  "use strict";

  function unquote(text) {
    return text.replace(/\\(.)/g, "$1");
  }

  var QUOTED = "'((?:[^'\\\\]|\\\\.)*)'";
  // The shapes in flask_admin/templates/bootstrap4; a handler returning false cancels the click.
  var HANDLERS = [
    [/^return false;?$/, function () { return false; }],
    [new RegExp("^return modelActions\\.execute\\(" + QUOTED + "\\);?$"),
      function (element, name) { return window.modelActions.execute(unquote(name)); }],
    [new RegExp("^return faHelpers\\.safeConfirm\\(" + QUOTED + "\\);?$"),
      function (element, message) { return window.faHelpers.safeConfirm(unquote(message)); }],
    [new RegExp("^faForm\\.addInlineField\\(this, " + QUOTED + "\\);?$"),
      function (element, id) { window.faForm.addInlineField(element, unquote(id)); }],
  ];

  function run(element) {
    var code = element.getAttribute("data-fa-onclick").trim();
    for (var i = 0; i < HANDLERS.length; i++) {
      var match = HANDLERS[i][0].exec(code);
      if (match) return HANDLERS[i][1](element, match[1]);
    }
    console.error("csp.js: no replacement for the inline handler " + JSON.stringify(code));
    return undefined;
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest('a[href^="javascript:"]')) event.preventDefault();
    var element = event.target.closest("[data-fa-onclick]");
    if (element && run(element) === false) event.preventDefault();
  }, true);
})();
