import keras
import numpy as np
import pytest

from book import distill
from book.distill import (
    METHODS,
    accuracy,
    fused_model,
    hard_label_loss,
    kd_loss,
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


@pytest.mark.parametrize("method", ["mse", "hard"])
def test_fused_heads_train_exactly_like_separate_keras_heads(tiny_transfer, method, monkeypatch):
    """The sweep's speed tricks change nothing: same init and batches -> same weights.

    Fused training (one model, TF's fused Adadelta kernel) against each head
    trained alone by ``model.fit`` with Keras' Adadelta, from the same
    initial weights, in the same batch order, without dropout.
    """
    t = tiny_transfer
    sizes = [1, 3, 4]
    built = []
    real_fused_model = distill.fused_model

    def keep(*args, **kwargs):
        built.append(real_fused_model(*args, **kwargs))
        initial.extend(built[-1].get_layer("heads").split())
        return built[-1]

    initial = []
    monkeypatch.setattr(distill, "fused_model", keep)
    distill.fit_fused_heads(sizes, METHODS[method], t, seed=5, epochs=2, dropout=0.0, shuffle=False)
    for alone, trained_in_fused in zip(initial, built[0].get_layer("heads").split()):
        alone.compile(optimizer=keras.optimizers.Adadelta(learning_rate=1.0), loss=METHODS[method].loss)
        alone.fit(t.train_features, targets(t.train_logits, t.train_labels), batch_size=32,
                  epochs=2, shuffle=False, verbose=0)
        for a, b in zip(trained_in_fused.get_weights(), alone.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_interrupted_fused_run_resumes_exactly(tiny_transfer, tmp_path):
    """Killed after an epoch and started again, a run ends where an uninterrupted one does."""
    t = tiny_transfer
    checkpoint = tmp_path / "run.npz"
    uninterrupted = distill.fit_fused_heads([2, 5], METHODS["mse"], t, seed=1, epochs=3).accuracy

    def die_after_first_epoch(epoch):
        if epoch == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        distill.fit_fused_heads([2, 5], METHODS["mse"], t, seed=1, epochs=3,
                                on_epoch_end=die_after_first_epoch, checkpoint=checkpoint)
    assert checkpoint.exists()
    epochs_run = []
    resumed = distill.fit_fused_heads([2, 5], METHODS["mse"], t, seed=1, epochs=3,
                                      on_epoch_end=epochs_run.append, checkpoint=checkpoint).accuracy
    assert epochs_run == [1, 2]
    np.testing.assert_array_equal(resumed, uninterrupted)
    assert not checkpoint.exists()


def test_fused_init_matches_glorot_limits():
    layer = fused_model([2, 50], feature_dim=9216, seed=0).get_layer("heads")
    kernel1 = np.asarray(layer.kernel1)
    assert np.abs(kernel1[:, :2]).max() <= np.sqrt(6 / (9216 + 2))
    assert np.abs(kernel1[:, 2:]).max() <= np.sqrt(6 / (9216 + 50))
    assert np.abs(kernel1[:, :2]).max() > 0.9 * np.sqrt(6 / (9216 + 2))
    kernel2 = np.asarray(layer.kernel2)
    assert np.all(kernel2[:2, 10:] == 0) and np.all(kernel2[2:, :10] == 0)  # block diagonal


def test_kd_loss_by_hand_at_t1():
    teacher = np.array([[2.0, 0.0] + [-1.0] * 8], "float32")
    student = np.array([[0.5, 0.5] + [0.0] * 8], "float32")
    y_true = targets(teacher, np.array([0]))
    q = np.exp(teacher) / np.exp(teacher).sum()
    p = np.exp(student) / np.exp(student).sum()
    kl = np.sum(q * np.log(q / p))
    ce = -np.log(p[0, 0])
    assert float(kd_loss(1.0, 0.0)(y_true, student)[0]) == pytest.approx(kl, rel=1e-5)
    assert float(kd_loss(1.0, 0.5)(y_true, student)[0]) == pytest.approx(0.5 * kl + 0.5 * ce, rel=1e-5)


def test_kd_loss_at_high_temperature_is_mse_on_centred_logits():
    """Paper, section 2.1: as T grows, T^2 KL -> (1 / 2N) sum((s - mean s) - (z - mean z))^2."""
    rng = np.random.default_rng(3)
    teacher = rng.normal(size=(5, 10)).astype("float32")
    student = (rng.normal(size=(5, 10)) + 7.0).astype("float32")  # a shift changes nothing
    y_true = targets(teacher, np.zeros(5, "int64"))
    centred = lambda z: z - z.mean(axis=1, keepdims=True)  # noqa: E731
    limit = np.sum((centred(student) - centred(teacher)) ** 2, axis=1) / (2 * 10)
    np.testing.assert_allclose(np.asarray(kd_loss(200.0, 0.0)(y_true, student)), limit, rtol=2e-2)
    # and the approximation tightens as T grows
    err = lambda t: np.abs(np.asarray(kd_loss(t, 0.0)(y_true, student)) - limit).max()  # noqa: E731
    assert err(200.0) < err(20.0) < err(5.0)


def _gradient(loss, y_true, student):
    import tensorflow as tf

    s = tf.Variable(student)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss(y_true, s))
    return tape.gradient(value, s).numpy()


def _softmax(x, t):
    e = np.exp((x - x.max(axis=-1, keepdims=True)) / t)
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("temperature", [1.0, 4.0, 20.0])
def test_kd_gradient_is_one_minus_alpha_times_t_times_q_minus_p(temperature):
    """Chapter 4: d KL(p(T) || q(T)) / ds = (q - p) / T, so with the T^2 factor the soft
    term's gradient is (1 - alpha) T (q - p); the hard term adds alpha (q(1) - y)."""
    rng = np.random.default_rng(5)
    teacher = (rng.normal(size=(4, 10)) * 3).astype("float32")
    student = (rng.normal(size=(4, 10)) * 3).astype("float32")
    labels = np.array([0, 3, 5, 9])
    y_true = targets(teacher, labels)
    p, q = _softmax(teacher, temperature), _softmax(student, temperature)
    alpha = 0.3
    expected = (1 - alpha) * temperature * (q - p) + alpha * (_softmax(student, 1.0) - np.eye(10)[labels])
    np.testing.assert_allclose(_gradient(kd_loss(temperature, alpha), y_true, student), expected, rtol=1e-3,
                               atol=1e-5)


def test_kd_gradient_scale_does_not_shrink_with_temperature():
    """Without T^2 the soft term's gradient would fall like 1 / T^2; with it, it settles."""
    rng = np.random.default_rng(6)
    teacher, student = rng.normal(size=(2, 8, 10)).astype("float32")
    y_true = targets(teacher, np.zeros(8, int))
    size = {t: np.abs(_gradient(kd_loss(t, 0.0), y_true, student)).mean() for t in (20.0, 40.0, 80.0)}
    assert size[80.0] == pytest.approx(size[20.0], rel=0.05)


def test_mse_is_twice_the_high_temperature_limit_plus_the_mean_logit_gap():
    """Chapter 4: MSE = 2 lim T^2 KL + (mean s - mean z)^2 (N = 10)."""
    rng = np.random.default_rng(7)
    teacher = (rng.normal(size=(6, 10)) * 2).astype("float32")
    student = (rng.normal(size=(6, 10)) * 2 + 1.5).astype("float32")  # a different mean logit
    y_true = targets(teacher, np.zeros(6, int))
    limit = np.sum(((student - student.mean(1, keepdims=True)) - (teacher - teacher.mean(1, keepdims=True))) ** 2,
                   axis=1) / (2 * 10)
    mean_gap = (student.mean(1) - teacher.mean(1)) ** 2
    np.testing.assert_allclose(np.asarray(mse_logits_loss(y_true, student)), 2 * limit + mean_gap, rtol=1e-5)


def test_kd_loss_per_head_settings():
    """A fused model's heads can each have their own (T, alpha)."""
    rng = np.random.default_rng(4)
    y_true = targets(rng.normal(size=(3, 10)).astype("float32"), np.array([1, 2, 3]))
    heads = rng.normal(size=(3, 2, 10)).astype("float32")
    fused = np.asarray(kd_loss([1.0, 4.0], [0.0, 0.5])(y_true, heads))
    separate = np.asarray(kd_loss(1.0, 0.0)(y_true, heads[:, 0])) + np.asarray(
        kd_loss(4.0, 0.5)(y_true, heads[:, 1]))
    np.testing.assert_allclose(fused, separate, rtol=1e-5)


def test_cached_head_trains_once(tiny_transfer, tmp_path, monkeypatch):
    import dataclasses

    from book.profile import PROFILES

    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    profile = dataclasses.replace(PROFILES["smoke"], name="test", student_epochs=1)
    calls = []
    real_fit = distill.fit_head
    monkeypatch.setattr(distill, "fit_head", lambda *a, **k: calls.append(a) or real_fit(*a, **k))
    first = distill.cached_head(2, METHODS["mse"], tiny_transfer, 0, profile)
    again = distill.cached_head(2, METHODS["mse"], tiny_transfer, 0, profile)
    assert len(calls) == 1 and again.model is None
    assert again.test_accuracy == first.test_accuracy
    assert again.history["loss"] == pytest.approx(first.history["loss"])
