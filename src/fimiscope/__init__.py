"""fimiscope: collect, detect and share evidence of foreign information manipulation."""

__version__ = "0.1.0"
