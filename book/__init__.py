"""Library code of the executable book on knowledge distillation.

Each module says which chapter introduces it; the chapters import from here.
"""

import os

# Keep TensorFlow's C++ start-up chatter out of the notebooks: ipykernel
# forwards the kernel's raw stderr into cell outputs. Must precede any TF import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
