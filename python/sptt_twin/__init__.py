"""sptt_twin: the PyTorch twin of the Spatial-TTT toolkit's C model.

Load a step dump or a checkpoint, run the same model in PyTorch (float32 or float64), compare with
the C results, and convert parameters to and from a plain PyTorch state dict.
"""
from .config import Config
from .formats import Checkpoint, StepDump, from_state_dict, to_state_dict
from .model import SpttModel, batch_loss, tensor_specs
from .safetensors import TwinError

__all__ = ["Config", "Checkpoint", "StepDump", "SpttModel", "TwinError", "batch_loss",
           "from_state_dict", "tensor_specs", "to_state_dict"]
