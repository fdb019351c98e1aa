"""The rebuilt EfficientNet-Lite0 is right: real photos get their ImageNet classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.models import ModelStore

CATS = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat
EGYPTIAN_CAT, ESPRESSO = 285, 967


@pytest.fixture(scope="module")
def net(store: ModelStore) -> EfficientNetLite0:
    return load_backbone(store)


def classify(net: EfficientNetLite0, rgb: np.ndarray) -> torch.Tensor:
    """Class probabilities for a photo, centre-cropped square and resized to 224 px."""
    import cv2

    h, w = rgb.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    square = cv2.resize(rgb[y:y + side, x:x + side], (224, 224), interpolation=cv2.INTER_AREA)
    x_in = torch.from_numpy(square).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        return torch.softmax(net(net.normalize(x_in)), dim=1)[0]


def test_chelsea_is_a_cat_and_coffee_is_espresso(net: EfficientNetLite0) -> None:
    cat = classify(net, data.chelsea())
    assert int(cat.argmax()) in CATS
    assert float(cat[list(CATS)].sum()) > 0.5
    coffee = classify(net, data.coffee())
    assert int(coffee.argmax()) == ESPRESSO and float(coffee[ESPRESSO]) > 0.5


def test_blocks_and_same_padding_at_any_size(net: EfficientNetLite0) -> None:
    x = torch.zeros(1, 3, 180, 320)
    outs = net.blocks(x, upto=10)
    assert len(outs) == 11
    assert outs[0].shape == (1, 16, 90, 160)  # the stem halves: ceil(180 / 2)
    assert outs[10].shape[1] == 112 and outs[10].shape[-2:] == (12, 20)  # stride 16, ceil
    assert not any(p.requires_grad for p in net.parameters())
