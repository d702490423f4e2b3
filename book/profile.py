"""Run profiles: the one place that decides how much work every chapter does.

Introduced in chapter 1. ``BOOK_PROFILE=full`` (the default outside pytest)
produces the published results; ``BOOK_PROFILE=smoke`` (the default under
pytest, set in ``conftest.py``) shrinks data and epochs so the whole book runs
in a couple of minutes. Nothing deterministic -- architectures, parameter
counts, compression rates -- depends on the profile.
"""

from __future__ import annotations

import dataclasses
import os

PROFILE_ENV = "BOOK_PROFILE"


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_size: int | None  # None: all 60,000 training images
    test_size: int | None  # None: all 10,000 test images
    teacher_epochs: int
    student_epochs: int
    sweep_hidden_sizes: tuple[int, ...]
    sweep_seeds: tuple[int, ...]
    # chapter 5's dead-unit test: more seeds, k <= 4 only
    small_head_seeds: tuple[int, ...]
    cnn_epochs: int  # chapter 7's CNN students
    cnn_widths: tuple[int, ...]


# The published sweep sizes (chapter 5): the original's k = 2..7 and more on
# both sides, up to the teacher's own 128 hidden units.
SWEEP_HIDDEN_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 32, 64, 128)

# Chapter 7's CNN students, by the width of their first conv layer: from
# ~1,000 to ~21,500 parameters (the largest is 56x smaller than the teacher).
CNN_WIDTHS = (2, 4, 8, 12, 16)

PROFILES = {
    "full": Profile(
        name="full",
        train_size=None,
        test_size=None,
        teacher_epochs=12,
        student_epochs=40,
        sweep_hidden_sizes=SWEEP_HIDDEN_SIZES,
        sweep_seeds=(0, 1, 2),
        small_head_seeds=tuple(range(10)),
        cnn_epochs=10,
        cnn_widths=CNN_WIDTHS,
    ),
    "smoke": Profile(
        name="smoke",
        train_size=2048,
        test_size=512,
        teacher_epochs=1,
        student_epochs=1,
        sweep_hidden_sizes=(2, 6, 16),
        sweep_seeds=(0, 1),
        small_head_seeds=(0, 1, 2),
        cnn_epochs=1,
        cnn_widths=(2, 16),
    ),
}


def current_profile() -> Profile:
    """The profile named by ``$BOOK_PROFILE`` (default ``full``)."""
    name = os.environ.get(PROFILE_ENV, "full")
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"{PROFILE_ENV}={name!r} is not a profile; expected one of {sorted(PROFILES)}"
        ) from None
