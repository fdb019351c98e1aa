"""The compositor: layers with blend modes and masks (see layers.py, blend.py), placed on
visitors (people.py) through their silhouettes (masks.py)."""

from installation.compositor.blend import MODES, BlendMode, blend
from installation.compositor.layers import LayerConfig, compose, compose_errors, grid
from installation.compositor.masks import soft_mask

__all__ = ["MODES", "BlendMode", "LayerConfig", "blend", "compose", "compose_errors", "grid",
           "soft_mask"]
