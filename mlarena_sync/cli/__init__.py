"""The command line's edge: ``main()``, the parser, the crash log and the renderers."""
