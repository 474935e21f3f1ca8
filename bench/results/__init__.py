"""Stored results: the typed record-field table, the record schema and its migrations, the run store."""
