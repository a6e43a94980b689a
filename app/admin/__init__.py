"""View classes, one module per menu area."""
