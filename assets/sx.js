// Small helpers for grid cells (pure functions, no state). dash-ag-grid evaluates its string
// expressions in a scope without JS globals (no String, Number, ...), so anything beyond plain
// property access lives here and is called as SX.name(params...).
window.SX = {
  dataAge: function (iso) {
    if (!iso) { return "never enriched"; }
    const days = Math.floor((Date.now() - Date.parse(iso)) / 86400000);
    if (days <= 0) { return "today"; }
    if (days === 1) { return "1 day"; }
    return days + " days";
  },
  // AG Grid row ids must be strings (warning #25 otherwise); profile ids are integers.
  rowId: function (params) {
    return String(params.data.id);
  }
};
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
dagfuncs.SX = window.SX;
