"""What the original experiment and the paper published: every quoted number, in one place.

Introduced in chapter 1. Sources: the README and notebook of
Irtza/Keras_model_compression (see ``../shared/original/README.txt``) and its
``runme.py``; Hinton, Vinyals & Dean (2015), arXiv:1503.02531. These are
their numbers and settings, quoted; every other number in the book is
measured by the book's own code.
"""

import pandas as pd

# --- The original experiment (Irtza/Keras_model_compression) ---
TEACHER_ACCURACY = 0.9914  # its notebook; the README says "~= 0.99"
FOOTPRINT_MB = 4.577  # its README's "memory footprint ~= 4.577 Mb" (mebibytes of float32 weights)
TEACHER_PARAMS = 1_199_882  # its README's "Total params"
# its README's "Compression Rate" for the k = 6 student
COMPRESSION_RATE = "16.2x"
TEACHER_EPOCHS = 15  # in its notebook (20 in its runme.py)
STUDENT_K6_ACCURACY = 0.9626

# Its hidden-size sweep: one run per size, MSE on logits extracted with dropout on.
SWEEP = pd.DataFrame(
    dict(
        k=[2, 3, 4, 5, 6, 7],
        params=[37_280, 46_507, 55_734, 64_961, 74_188, 83_415],
        compression_rate=[32.19, 25.80, 21.53, 18.47, 16.17, 14.38],
        test_accuracy=[0.4211, 0.7185, 0.9199, 0.9423, 0.9626, 0.9699],
    )
)

# How it ran, read from its notebook and runme.py (the notebook printed Keras 1
# layer names, Convolution2D, although it imports Conv2D: Keras 1.1-1.2).
RECIPE = {
    "framework": "Keras 1.1-1.2 (Theano or TensorFlow 1 backend)",
    "teacher epochs": "15 in the notebook (20 in runme.py), batch 128",
    "Adadelta": "Keras defaults: learning rate 1.0, rho 0.95, epsilon 1e-8",
    "targets (training images)": "logits extracted with the learning phase set to 1: both dropouts on",
    "test features": "extracted with the learning phase set to 1: Dropout(0.25) on",
    "extraction batches": "1,000 images",
    "student training": "fit(..., nb_epoch=40), batch 32 (Keras' default), Dropout(0.2), MSE",
    "runs per size": "one",
}

# --- The paper (Hinton, Vinyals & Dean 2015) ---
# Section 3, MNIST: test errors of a large net, of a small net trained on labels
# alone, and of the small net distilled from the large one.
PAPER_MNIST_ERRORS = {
    "teacher": 67,
    "small net, hard labels": 146,
    "small net, distilled": 74,
}
# Section 3, the omitted digit: the distilled 2x800-unit student without any 3
# in its transfer set (bias raise chosen on the test set).
PAPER_OMITTED_DIGIT = {
    "test errors before": 206,
    "of which on 3s": 133,
    "test 3s": 1010,
    "bias raise": 3.5,
    "test errors after": 109,
    "of which on 3s after": 14,
}
PAPER_OMITTED_DIGIT_TEMPERATURE = 20
