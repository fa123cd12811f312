"""The project's pytest plugin (options, the requirement marker, fixtures, outcome collection)."""
