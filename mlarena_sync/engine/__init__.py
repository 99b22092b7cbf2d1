"""The sync engine: plan (pure), deploy gate, binding, apply, reconcile, push, pull.

It never prints and never exits: it reports through :mod:`mlarena_sync.events` and raises
:mod:`mlarena_sync.errors`; the commands turn that into output and exit codes.
"""
