import numpy as np
import pytest

from book.distill import (
    accuracy,
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

