/* Typed dates with an optional calendar in the user's language.

   The form's date boxes (data-role "typed-date" / "typed-datetime", admin_app/dates.py) take what
   the user types: the server reads 30-11-2026, 2026-11-30, 1 Des 2026, ... and shows a refusal at
   the field. The calendar is Flask-Admin's bundled daterangepicker 1.3.22, which has no
   autoUpdateInput option: it rewrites its input on every key (so "2026-11-30" typed became
   "0002-01-01026-11-30") and on opening. Here it never writes while the user types; picking a day
   writes that day (keeping a typed time) and closes the calendar.

   The list filters' date boxes (Flask-Admin's roles) keep their ISO format, which the server's
   filters read, and get the same words and the same respect for typing.

   Registered as a form.js field converter (form.js announces itself with "adminFormReady"), so
   inline forms added later are handled too. Words: window.panelLocale.picker (locale.js). */
(function ($) {
  "use strict";
  if (!$) { return; }
  var words = (window.panelLocale && window.panelLocale.picker) || null;
  var NUMERIC = ["DD-MM-YYYY", "D-M-YYYY", "DD/MM/YYYY", "D/M/YYYY", "DD.MM.YYYY", "YYYY-MM-DD", "YYYY/MM/DD"];

  function localeOptions() {
    if (!words) { return {}; }
    return {
      daysOfWeek: words.daysOfWeek, monthNames: words.monthNames, firstDay: words.firstDay,
      applyLabel: words.applyLabel, cancelLabel: words.cancelLabel, fromLabel: words.fromLabel,
      toLabel: words.toLabel, weekLabel: words.weekLabel, customRangeLabel: words.customRangeLabel
    };
  }

  // The calendar opens on the typed day when the text is a plain numeric date; else on today.
  function showTypedDay(picker, text, formats) {
    var day = moment($.trim(text).split(/\s+/)[0] || "", formats, true);
    if (!day.isValid()) { return; }
    picker.startDate = day.clone().startOf("day");
    picker.endDate = day.clone().endOf("day");
    picker.oldStartDate = picker.startDate.clone();  // opening is not picking: hide() writes nothing
    picker.oldEndDate = picker.endDate.clone();
    picker.updateView();
    picker.updateCalendars();
  }

  function typedDate($el, withTime) {
    var format = words ? words.dateFormat : "DD-MM-YYYY";
    $el.daterangepicker({
      singleDatePicker: true, timePicker: false, showDropdowns: true, autoApply: true,
      format: format, locale: localeOptions()
    });
    var picker = $el.data("daterangepicker");
    $el.off("keyup.daterangepicker");          // typing is the user's: never parsed and rewritten here
    picker.updateInputText = function () {};   // nor when the calendar opens or closes
    $el.on("show.daterangepicker", function () { showTypedDay(picker, $el.val(), NUMERIC); });
    $el.on("apply.daterangepicker", function () {
      var text = picker.startDate.format(format);
      if (withTime) {  // the day is picked, the time stays as typed
        var time = /(\d{1,2}[.:]\d{2}(?:[.:]\d{2})?)\s*(WIB)?\s*$/i.exec($el.val());
        text += " " + (time ? time[1] : "");
      }
      if ($el.val() !== text) { $el.val(text).trigger("change"); }
    });
    return true;
  }

  // Flask-Admin's filter boxes: the options of its form.js, in the user's language, typing kept.
  function filterPicker($el, name) {
    var range = name === "daterangepicker" || name === "datetimerangepicker";
    var withTime = name === "datetimepicker" || name === "datetimerangepicker";
    var format = $el.attr("data-date-format") || (withTime ? "YYYY-MM-DD HH:mm:ss" : "YYYY-MM-DD");
    $el.daterangepicker({
      singleDatePicker: !range, timePicker: withTime, timePicker12Hour: false, timePickerIncrement: 1,
      showDropdowns: true, separator: " to ", format: format, locale: localeOptions()
    }, function () { $(".filter-val").trigger("change"); });
    var picker = $el.data("daterangepicker");
    $el.off("keyup.daterangepicker");
    if (!range) {
      $el.on("show.daterangepicker", function () {
        var typed = moment($.trim($el.val()), format, true);
        if (typed.isValid()) {
          picker.startDate = typed.clone();
          picker.endDate = typed.clone();
          picker.oldStartDate = typed.clone();
          picker.oldEndDate = typed.clone();
          picker.updateView();
          picker.updateCalendars();
        }
      });
    }
    return true;
  }

  function converter($el, name) {
    if (!$.fn.daterangepicker) { return false; }
    if (name === "typed-date") { return typedDate($el, false); }
    if (name === "typed-datetime") { return typedDate($el, true); }
    if (name === "datepicker" || name === "daterangepicker" || name === "datetimepicker" ||
        name === "datetimerangepicker") { return filterPicker($el, name); }
    return false;
  }

  $(document).on("adminFormReady", function () { window.faForm.addFieldConverter(converter); });
}(window.jQuery));
