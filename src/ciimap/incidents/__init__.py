"""Incident handling and reporting (事件处置 + 信息通报): GB/T 20986-2023 grading, the 2025 reporting clock."""
