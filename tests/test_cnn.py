import keras
import numpy as np
import pytest

from book import cnn
from book.data import Mnist
from book.distill import targets
from book.models import teacher_model
from book.teacher import logits_model

KD = cnn.KdSetting(temperature=4.0, alpha=0.1)


@pytest.mark.parametrize("width", [1, 2, 5, 8, 16])
def test_student_parameter_formula(width):
    assert cnn.cnn_student(width).count_params() == 63 * width**2 + 335 * width + 10


def test_size_table_of_the_published_widths():
    table = cnn.size_table((2, 16))
    assert table.params.tolist() == [932, 21_498]
    assert table.compression_rate[16] == 55.8  # >= 50x fewer parameters than the teacher


T = 4.0


@pytest.fixture
def logit_pair():
    rng = np.random.default_rng(0)
    return tuple(rng.normal(size=(8, 10)).astype("float32") for _ in range(2))


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_logits_distillation_is_t_squared_kl(logit_pair):
    teacher, student = logit_pair
    p, q = _softmax(teacher / T), _softmax(student / T)
    kl = np.mean(np.sum(p * np.log(p / q), axis=1))
    assert float(cnn.logits_distillation(T).compute_loss(teacher, student)) == pytest.approx(T**2 * kl, rel=1e-5)


def test_logits_distillation_pitfalls_of_the_pinned_keras(logit_pair):
    """What chapter 7 warns about. If these fail after a Keras upgrade, the
    workaround in ``cnn.logits_distillation`` (and the chapter's warning) may go."""
    teacher, student = logit_pair
    # Any loss but a KLDivergence instance: logits divided by T, no T**2.
    mse = keras.distillation.LogitsDistillation(T, loss="mean_squared_error")
    plain_mse = np.mean((teacher - student) ** 2)
    assert float(mse.compute_loss(teacher, student)) == pytest.approx(plain_mse / T**2, rel=1e-5)
    # The default loss="kl_divergence" takes that path too: KL of the clipped scaled logits.
    clip = lambda z: np.clip(z / T, 1e-7, 1)  # noqa: E731
    on_logits = np.mean(np.sum(clip(teacher) * np.log(clip(teacher) / clip(student)), axis=1))
    default = keras.distillation.LogitsDistillation(T)
    assert float(default.compute_loss(teacher, student)) == pytest.approx(on_logits, rel=1e-4)


def test_cached_logit_route_takes_the_same_step_as_distiller():
    """Training on cached teacher logits is the Distiller's training, not an approximation."""
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, size=64)
    keras.utils.set_random_seed(1)
    teacher = teacher_model()  # untrained is fine: only its logits matter
    cached_logits = logits_model(teacher).predict(images, verbose=0)

    keras.utils.set_random_seed(2)
    by_distiller = cnn.distiller(teacher, cnn.cnn_student(2), KD, epochs=1, n_images=64)
    by_distiller.fit(images, labels, batch_size=32, epochs=1, shuffle=False, verbose=0)

    keras.utils.set_random_seed(2)
    by_cache = cnn.cnn_student(2)
    by_cache.compile(optimizer=cnn._optimizer(1, 64), loss=cnn.distillation_loss(KD))
    by_cache.fit(images, targets(cached_logits, labels), batch_size=32, epochs=1, shuffle=False, verbose=0)

    for a, b in zip(by_distiller.student.get_weights(), by_cache.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(by_cache.get_weights()[0], cnn.cnn_student(2).get_weights()[0])  # it trained


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="'kd'"):
        cnn.train_student(2, "kd", 0, None, None, None, 1, KD)


def test_raise_bias_moves_only_that_digit():
    logits = np.zeros((2, 10), "float32")
    raised = cnn.raise_bias(logits, 3, 2.5)
    assert raised[:, 3].tolist() == [2.5, 2.5] and np.all(np.delete(raised, 3, axis=1) == 0)


def test_bias_sweep_counts_errors():
    logits = np.zeros((2, 10), "float32")
    logits[:, 8] = 1.0  # both images predicted 8; one is a 3
    sweep = cnn.bias_sweep(logits, np.array([3, 8]), 3, offsets=np.array([0.0, 2.0]))
    assert sweep.errors.tolist() == [1, 1] and sweep.digit_errors.tolist() == [1, 0]
    assert sweep.accuracy.tolist() == [0.5, 0.5]


def test_the_omitted_digit_is_never_trained_on(monkeypatch):
    """The campaign's omitted-digit run: both students train without a single
    image of the digit, on the training set minus its held-out tail."""
    from book import campaign
    from book.teacher import TransferSet

    rng = np.random.default_rng(0)
    data = Mnist(rng.uniform(size=(40, 28, 28, 1)).astype("float32"), np.arange(40) % 10,
                 rng.uniform(size=(20, 28, 28, 1)).astype("float32"), np.arange(20) % 10)
    logits = rng.normal(size=(40, 10)).astype("float32")
    transfer = TransferSet(None, logits, data.y_train, None, None, data.y_test)
    seen = []
    real_train = campaign.train_student

    def spy(width, method, seed, images, labels, *args):
        seen.append(labels)
        return real_train(width, method, seed, images, labels, *args)

    monkeypatch.setattr(campaign, "train_student", spy)
    rows = campaign.train_omitted_digit(data, transfer, seed=0, width=1, epochs=1, kd=KD)
    assert len(seen) == 2 and all(cnn.OMITTED_DIGIT not in labels for labels in seen)
    # the held-out tail (the last 4 of 40 images) is not trained on either
    assert set(rows.train_images) == {len(seen[0])} == {36 - 4}
    campaign.valid_omitted_digit(rows, dict(seed=0, width=1), len(data.y_test))
