"""ciimap — a security map (挂图作战) for critical-information-infrastructure operators."""

__version__ = "0.5.0"
