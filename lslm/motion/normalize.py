"""STUB: being written (normalisation statistics)."""
class Normalizer: pass
