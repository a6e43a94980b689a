"""Credit hours (学时): declaring, importing, reviewing, summaries and annual verification."""
