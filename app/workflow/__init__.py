"""The one review mechanism of the product (docs/review-kinds.md): states, kinds, decisions, submissions."""
