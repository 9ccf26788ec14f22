"""Asset mapping (资产测绘): importers, correlation into canonical assets, history and change events."""
