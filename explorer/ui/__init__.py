"""The Qt layer: views and controllers only. Nothing outside ui/ imports Qt."""
