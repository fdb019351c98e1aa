"""DeepDream: the backbone network whose activations the dream amplifies (more to come)."""

from installation.dream.backbone import EfficientNetLite0, load_backbone

__all__ = ["EfficientNetLite0", "load_backbone"]
