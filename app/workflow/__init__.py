"""The one review mechanism (DESIGN.md §2): states, policies, decisions, submissions."""
