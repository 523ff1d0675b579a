"""Running notebooks into reports and recording their headline numbers."""
