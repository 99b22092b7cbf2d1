"""``watch``: change source, debouncer, loop, deploy scheduler."""
