"""The compositor: layers with blend modes and masks (see layers.py, blend.py)."""

from installation.compositor.blend import MODES, BlendMode, blend
from installation.compositor.layers import LayerConfig, compose, compose_errors, grid, soft_mask

__all__ = ["MODES", "BlendMode", "LayerConfig", "blend", "compose", "compose_errors", "grid",
           "soft_mask"]
