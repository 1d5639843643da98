"""Shape-aware tensor expressions: tree, ranges, DCP engine, witnesses."""
