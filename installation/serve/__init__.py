"""The serving side: `python main.py serve` runs NVIDIA Triton Inference Server with the
project's networks (networks.py: which; repository.py: Triton's model repository;
backend.py: the Python-backend model that runs one network with the project's engine
choice; server.py: finding and running the bundled server). The display side's remote
engine is `installation/runtime/remote/`."""
