"""What the original experiment published, for comparison (chapters 3-5).

Source: the README and notebook of Irtza/Keras_model_compression (see
``../shared/original/README.txt``). These are the original's numbers, quoted;
every other number in the book is measured by the book's own code.
"""

import pandas as pd

TEACHER_ACCURACY = 0.9914  # its notebook; the README says "~= 0.99"
STUDENT_K6_ACCURACY = 0.9626

# Its hidden-size sweep: one run per size, one seed, MSE on dropout-on logits.
SWEEP = pd.DataFrame(
    dict(
        k=[2, 3, 4, 5, 6, 7],
        params=[37_280, 46_507, 55_734, 64_961, 74_188, 83_415],
        compression_rate=[32.19, 25.80, 21.53, 18.47, 16.17, 14.38],
        test_accuracy=[0.4211, 0.7185, 0.9199, 0.9423, 0.9626, 0.9699],
    )
)
