"""``.mlarena-sync/`` beside mlarena.yaml: one :class:`~.state.StateDir` (lock, state, journal,
stat cache) read once per run, and the one :func:`~.atomic.atomic_write`."""
