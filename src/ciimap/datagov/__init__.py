"""Data classification and grading (数据分类分级, GB/T 43697-2024): catalogue, grading, registers."""
