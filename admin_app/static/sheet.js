/* The disposition sheet's Print button (an inline onclick would be blocked by the CSP). */
document.getElementById("print").addEventListener("click", function () { window.print(); });
