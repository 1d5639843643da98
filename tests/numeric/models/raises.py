"""A model file whose import fails."""

raise ValueError("dataset not found")
