"""Hook implementations of the edge plugin."""
