/* The meeting form's attendee rows (templates/admin/_attendees.html): a name picked from the page's
   list of known people (#attendee-people: the panel's users and the parties' contact persons) fills
   that person's position and organisation. A typed name that is nobody known fills nothing.
   Listens on the document, so rows added with "Add attendee" work too. */
(function () {
  "use strict";

  function knownPerson(input) {
    var list = document.getElementById("attendee-people");
    if (!list || !input.value) return null;
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === input.value) return list.options[i];
    }
    return null;
  }

  function fill(event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.getAttribute("data-attendee") !== "name") return;
    var person = knownPerson(input);
    var row = input.closest(".attendee-row");
    if (!person || !row) return;
    row.querySelector('[data-attendee="position"]').value = person.getAttribute("data-position") || "";
    row.querySelector('[data-attendee="organisation"]').value = person.getAttribute("data-organisation") || "";
  }

  // Picking from the list fires "input" in Chromium and Firefox, "change" elsewhere.
  document.addEventListener("input", fill);
  document.addEventListener("change", fill);
})();
