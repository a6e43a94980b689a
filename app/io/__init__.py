"""Excel in one place: the streaming writer, the exporter every list uses, the import framework."""
