"""workbench_optical: built-in plugin package (see plugin.py)."""
