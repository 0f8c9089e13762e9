// Small formatting helpers for grid cells (pure functions, no state).
window.SX = {
  dataAge: function (iso) {
    if (!iso) { return "never enriched"; }
    const days = Math.floor((Date.now() - Date.parse(iso)) / 86400000);
    if (days <= 0) { return "today"; }
    if (days === 1) { return "1 day"; }
    return days + " days";
  }
};
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
dagfuncs.SX = window.SX;
