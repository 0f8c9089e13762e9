"""Pure layouts: functions that build components from their arguments, with no I/O."""
