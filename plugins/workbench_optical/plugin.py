"""Hook implementations of the optical plugin."""
