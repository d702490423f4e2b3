import pytest

from book.models import (
    CONV_PARAMS,
    TEACHER_PARAMS,
    compression_rate,
    feature_dim,
    footprint_mib,
    head_params,
    layer_table,
    student_head,
    student_params,
    teacher_model,
)


def test_teacher_architecture():
    teacher = teacher_model()
    assert teacher.count_params() == TEACHER_PARAMS == 1_199_882
    assert feature_dim(teacher) == 9216
    table = layer_table(teacher)
    assert table.loc["conv1", "params"] + table.loc["conv2", "params"] == CONV_PARAMS == 18_816
    assert table.loc["dense", "params"] == 1_179_776
    assert table.loc["total", "params"] == TEACHER_PARAMS


@pytest.mark.parametrize("k", [1, 2, 6, 128])
def test_head_param_formula_matches_keras(k):
    assert student_head(k).count_params() == head_params(k)


def test_original_published_sizes():
    # The original's table: k -> parameters, compression rate (2 decimals).
    published = {2: (37_280, 32.19), 3: (46_507, 25.80), 4: (55_734, 21.53),
                 5: (64_961, 18.47), 6: (74_188, 16.17), 7: (83_415, 14.38)}
    for k, (params, rate) in published.items():
        assert student_params(k) == params
        assert round(compression_rate(params), 2) == rate


def test_footprint_matches_original():
    assert round(footprint_mib(TEACHER_PARAMS), 3) == 4.577
