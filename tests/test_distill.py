import keras
import numpy as np
import pytest

from book.distill import (
    METHODS,
    accuracy,
    fused_model,
    hard_label_loss,
    mse_logits_loss,
    targets,
)


def test_mse_loss_by_hand():
    logits = np.array([[1.0, 2.0] + [0.0] * 8], "float32")
    y_true = targets(logits, np.array([1]))
    y_pred = logits + np.array([[1.0, -1.0] + [0.0] * 8], "float32")
    assert float(mse_logits_loss(y_true, y_pred)[0]) == pytest.approx(2 / 10)


def test_hard_loss_by_hand():
    y_true = targets(np.zeros((1, 10), "float32"), np.array([3]))
    y_pred = np.zeros((1, 10), "float32")  # uniform softmax
    assert float(hard_label_loss(y_true, y_pred)[0]) == pytest.approx(np.log(10), rel=1e-6)


def test_fused_loss_is_sum_of_head_losses():
    rng = np.random.default_rng(1)
    y_true = targets(rng.normal(size=(4, 10)).astype("float32"), np.array([0, 1, 2, 3]))
    heads = rng.normal(size=(4, 3, 10)).astype("float32")
    for loss in (mse_logits_loss, hard_label_loss):
        separate = sum(np.asarray(loss(y_true, heads[:, h])) for h in range(3))
        np.testing.assert_allclose(np.asarray(loss(y_true, heads)), separate, rtol=1e-5)


def test_accuracy_per_head():
    logits = np.zeros((2, 2, 10))
    logits[0, :, 1] = 1  # both heads say 1 for example 0
    logits[1, 0, 5] = 1  # head 0 says 5, head 1 says 0, for example 1
    np.testing.assert_allclose(accuracy(logits, np.array([1, 5])), [1.0, 0.5])


def test_fused_heads_train_exactly_like_separate_heads(tiny_transfer):
    """The sweep's speed trick changes nothing: same init and batches -> same weights."""
    t = tiny_transfer
    y = targets(t.train_logits, t.train_labels)
    fused = fused_model([1, 3, 4], feature_dim=20, seed=5, dropout=0.0)
    separate = fused.get_layer("heads").split()  # same initial weights, as plain student heads
    for model in [fused, *separate]:
        model.compile(optimizer=keras.optimizers.Adadelta(learning_rate=1.0), loss=METHODS["mse"].loss)
        model.fit(t.train_features, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for trained_in_fused, trained_alone in zip(fused.get_layer("heads").split(), separate):
        for a, b in zip(trained_in_fused.get_weights(), trained_alone.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_init_matches_glorot_limits():
    layer = fused_model([2, 50], feature_dim=9216, seed=0).get_layer("heads")
    kernel1 = np.asarray(layer.kernel1)
    assert np.abs(kernel1[:, :2]).max() <= np.sqrt(6 / (9216 + 2))
    assert np.abs(kernel1[:, 2:]).max() <= np.sqrt(6 / (9216 + 50))
    assert np.abs(kernel1[:, :2]).max() > 0.9 * np.sqrt(6 / (9216 + 2))
    kernel2 = np.asarray(layer.kernel2)
    assert np.all(kernel2[:2, 10:] == 0) and np.all(kernel2[2:, :10] == 0)  # block diagonal
