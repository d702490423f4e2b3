"""Library code of the executable book on knowledge distillation.

Each module says which chapter introduces it; the chapters import from here.
"""

import os

# Keep TensorFlow's C++ start-up chatter out of the notebooks: ipykernel
# forwards the kernel's raw stderr into cell outputs. Must precede any TF import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN is on by default on x86; saying so explicitly stops TF from logging
# a notice about it (through absl, which ignores TF_CPP_MIN_LOG_LEVEL) at import.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
