"""A head's random draws depend on (seed, k) alone: trained in a large group
or alone, with dropout and shuffling on, it ends with the same weights."""

import numpy as np
import pytest

from book.distill import METHODS, kd_method
from book.heads import Head, batch_orders, dropout_key, fit_group, initial_weights
from book.teacher import TransferSet


def tiny_transfer(n=320, d=24, seed=0) -> TransferSet:
    rng = np.random.default_rng(seed)
    features = np.maximum(rng.normal(size=(n, d)), 0).astype("float32")
    logits = (features @ rng.normal(size=(d, 10))).astype("float32")
    labels = logits.argmax(1)
    return TransferSet(features, logits, labels, features[:64], logits[:64], labels[:64])


def test_draws_depend_on_seed_and_k_only():
    a, b = initial_weights(3, 6, 24), initial_weights(3, 6, 24)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(initial_weights(3, 6, 24)[0], initial_weights(4, 6, 24)[0])
    assert not np.array_equal(dropout_key(3, 6), dropout_key(3, 5))
    assert np.array_equal(batch_orders(3, 50, 2)[1], batch_orders(3, 50, 2)[1])


def test_a_head_trains_the_same_in_a_group_and_alone():
    transfer = tiny_transfer()
    mse, hard, kd = METHODS["mse"], METHODS["hard"], kd_method(4, 0.1)
    group = [Head(mse, 2), Head(mse, 6), Head(kd, 6), Head(hard, 3), Head(kd, 9)]
    together = fit_group(group, transfer, seed=5, epochs=2)
    for i in (1, 2):  # MSE and KD heads of k = 6, each alone
        alone = fit_group([group[i]], transfer, seed=5, epochs=2)
        for fused, solo in zip(together.weights[i], alone.weights[0]):
            np.testing.assert_allclose(fused, solo, rtol=1e-4, atol=1e-5)
        assert together.correct[i] == alone.correct[0]
    # Same (seed, k), other losses: same start and draws, other weights at the end.
    assert not np.allclose(together.weights[1][0], together.weights[2][0])


def test_initial_weights_are_glorot_uniform_with_the_heads_own_fans():
    hidden, output = initial_weights(0, 2, 9216)
    limit = np.sqrt(6 / (9216 + 2))
    assert 0.9 * limit < np.abs(hidden).max() <= limit
    assert np.abs(output).max() <= np.sqrt(6 / (2 + 10))


@pytest.mark.parametrize("method", ["mse", "hard"])
def test_a_group_trains_exactly_like_keras_fit_with_keras_adadelta(method):
    """The loop's speed tricks change nothing: without dropout, each head of a
    group (TensorFlow's fused Adadelta kernel) ends with the weights that
    Keras' own Adadelta gives it in ``model.fit``, from the same initial
    weights, in the same batch order."""
    import keras

    from book.distill import targets
    from book.models import student_head

    transfer = tiny_transfer()
    sizes = [1, 3, 4]
    group = fit_group([Head(METHODS[method], k) for k in sizes], transfer, seed=5, epochs=2,
                      dropout=0.0, shuffle=False)
    d = transfer.train_features.shape[1]
    for k, trained in zip(sizes, group.weights):
        alone = student_head(k, d, dropout=0.0)
        hidden, output = initial_weights(5, k, d)
        alone.get_layer("hidden").set_weights([hidden, np.zeros(k, "float32")])
        alone.get_layer("logits").set_weights([output, np.zeros(10, "float32")])
        alone.compile(optimizer=keras.optimizers.Adadelta(learning_rate=1.0), loss=METHODS[method].loss)
        alone.fit(transfer.train_features, targets(transfer.train_logits, transfer.train_labels),
                  batch_size=32, epochs=2, shuffle=False, verbose=0)
        for a, b in zip(trained, alone.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_dropout_is_on_and_keyed_by_the_seed():
    transfer = tiny_transfer()
    head = [Head(METHODS["mse"], 6)]
    plain = fit_group(head, transfer, seed=5, epochs=1, dropout=0.0)
    dropped = fit_group(head, transfer, seed=5, epochs=1)
    other_seed = fit_group(head, transfer, seed=6, epochs=1)
    assert not np.allclose(plain.weights[0][0], dropped.weights[0][0])
    assert not np.allclose(dropped.weights[0][0], other_seed.weights[0][0])


def test_a_resumed_group_ends_where_an_uninterrupted_one_does(tmp_path):
    transfer = tiny_transfer()
    heads = [Head(METHODS["mse"], 4), Head(METHODS["hard"], 4)]
    whole = fit_group(heads, transfer, seed=1, epochs=3)
    from book.records import Checkpoint

    checkpoint = Checkpoint(tmp_path / "group.npz")

    class Stop(Exception):
        pass

    def stop_after_two(epoch):
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        fit_group(heads, transfer, seed=1, epochs=3, checkpoint=checkpoint, on_epoch_end=stop_after_two)
    resumed = fit_group(heads, transfer, seed=1, epochs=3, checkpoint=checkpoint)
    for a, b in zip(whole.weights, resumed.weights):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert not checkpoint.path.exists()


def test_a_group_needs_one_adadelta_epsilon():
    from book.distill import ORIGINAL_MSE

    with pytest.raises(ValueError, match="epsilon"):
        fit_group([Head(METHODS["mse"], 2), Head(ORIGINAL_MSE, 2)], tiny_transfer(), 0, 1)


def test_every_campaign_loss_gives_one_value_per_example_for_fused_heads():
    """fit_group's loss is the sum over heads of each head's batch mean only if a
    method's loss sums over the heads (one value per example); a loss that kept a
    per-head axis would be averaged over heads, scaling each head's gradient by
    the make-up of its group."""
    from book.campaign import grid_methods, mechanism_methods
    from book.distill import ORIGINAL_MSE, targets

    rng = np.random.default_rng(0)
    y = targets(rng.normal(size=(8, 10)).astype("float32"), rng.integers(0, 10, 8))
    predictions = rng.normal(size=(8, 3, 10)).astype("float32")
    methods = [METHODS["mse"], METHODS["hard"], ORIGINAL_MSE, *mechanism_methods(), *grid_methods(None)]
    for method in methods:
        assert tuple(np.shape(method.loss(y, predictions))) == (8,), method.name
