"""Tools that run the pinned n8n without a person: install paths, start/stop, bootstrap, workflow round trip, lint."""
