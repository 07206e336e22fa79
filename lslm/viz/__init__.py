"""Skeleton animations (gif/mp4) and still frame strips of motion clips."""
from lslm.viz.render import face_front, render_motion, render_strip

__all__ = ["face_front", "render_motion", "render_strip"]
