"""workbench_edge: built-in plugin package (see plugin.py)."""
