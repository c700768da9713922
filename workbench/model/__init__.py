"""Scenario data model: one labelled table per component kind."""

from .scenario import PARAMETERS, Origin, Scenario, build_table, read_only

__all__ = ["PARAMETERS", "Origin", "Scenario", "build_table", "read_only"]
