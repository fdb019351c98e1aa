"""DeepDream: the EfficientNet-Lite0 backbone (`backbone`), gradient ascent with octaves and
jitter (`ascent`), the live dream effect with flow-warped feedback (`live`, settings in
`config.DreamConfig`), and fast feed-forward dream networks (`fastnet`, trained by `train`,
run on ONNX Runtime by `fast`). Import the submodules: this package stays light so the
config can use `config.DreamConfig` without loading torch."""
