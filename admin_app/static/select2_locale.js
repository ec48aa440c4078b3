/* select2 3.5 (bundled with Flask-Admin, without locale files) in the user's language: the
   messages come from window.panelLocale (the view's locale.js, from the gettext catalogue).
   Loaded after select2 and before form.js, so every select box made afterwards speaks it. */
(function ($) {
  "use strict";
  var words = window.panelLocale && window.panelLocale.select2;
  if (!words || !$ || !$.fn.select2) { return; }
  function counted(forms, n) {
    return (n === 1 ? forms.one : forms.other).replace("%(num)d", n);
  }
  $.fn.select2.locales.panel = {
    formatMatches: function (matches) { return counted(words.matches, matches); },
    formatNoMatches: function () { return words.noMatches; },
    formatAjaxError: function () { return words.ajaxError; },
    formatInputTooShort: function (input, min) { return counted(words.inputTooShort, min - input.length); },
    formatInputTooLong: function (input, max) { return counted(words.inputTooLong, input.length - max); },
    formatSelectionTooBig: function (limit) { return counted(words.selectionTooBig, limit); },
    formatLoadMore: function () { return words.loadMore; },
    formatSearching: function () { return words.searching; }
  };
  $.extend($.fn.select2.defaults, $.fn.select2.locales.panel);
}(window.jQuery));
