"""Test tooling: a mirror server that fails as a live one does, and crash points."""
