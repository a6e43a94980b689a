"""REST resources under /api/v1/."""
