/* The Print button of the printed papers (disposition sheet, case file); an inline onclick would be
   blocked by the CSP. */
document.getElementById("print").addEventListener("click", function () { window.print(); });
