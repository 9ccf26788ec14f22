"""Compliance: MLPS 2.0 grading, catalogs, assessments and CII obligations (等级保护 + 关基保护)."""
