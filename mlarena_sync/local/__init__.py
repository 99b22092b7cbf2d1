"""The local side: which files are selected (ignore, secrets guard), scan, remote names."""
