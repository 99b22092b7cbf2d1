"""``.mlarena-sync/`` beside mlarena.yaml: lock, state, journal, written atomically."""
