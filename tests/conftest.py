import numpy as np
import pytest

from book.teacher import TransferSet


@pytest.fixture
def tiny_transfer():
    """A small synthetic transfer set: 20 non-negative features, logits linear in them."""
    rng = np.random.default_rng(0)

    def split(n):
        features = np.maximum(rng.normal(size=(n, 20)), 0).astype("float32")
        logits = (features @ mixing).astype("float32")
        return features, logits, logits.argmax(1).astype("int64")

    mixing = rng.normal(size=(20, 10))
    return TransferSet(*split(96), *split(64))
