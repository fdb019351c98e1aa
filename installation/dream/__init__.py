"""DeepDream: the EfficientNet-Lite0 backbone (`backbone`), gradient ascent with octaves and
jitter (`ascent`), and the live dream effect with flow-warped feedback (`live`, settings in
`config.DreamConfig`). Not yet selectable in a scene: that, the fast dream networks and
their training come next (issue 4)."""

from installation.dream.backbone import EfficientNetLite0, load_backbone

__all__ = ["EfficientNetLite0", "load_backbone"]
