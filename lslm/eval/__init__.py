"""Evaluation: text metrics (lslm.eval.text) and motion metrics (lslm.eval.motion)."""
