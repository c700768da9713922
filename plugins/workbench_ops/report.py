"""Report section of the ops plugin (placeholder replaced below by the full renderer)."""
