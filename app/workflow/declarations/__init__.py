"""Declarations of the review kinds, one module per area of the manual (``app.workflow.kinds.load``)."""
