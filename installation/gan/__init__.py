"""GAN stage: generators exported to ONNX at pull time, rendered from the newest latent.

`labels` holds the latent and class conventions, `renderer` the run-time side (ONNX Runtime,
no torch); `generators` and `export` are the torch side used only by `models pull`.
"""

from installation.gan.labels import EYE_CLASSES, LATENT_DIM, blend, one_hot
from installation.gan.renderer import (
    GanImage,
    GanRenderer,
    Generator,
    GeneratorName,
    LatentRequest,
    load_generator,
)

__all__ = [
    "EYE_CLASSES",
    "LATENT_DIM",
    "GanImage",
    "GanRenderer",
    "Generator",
    "GeneratorName",
    "LatentRequest",
    "blend",
    "load_generator",
    "one_hot",
]
