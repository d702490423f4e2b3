import pytest

from book.cache import atomic_path, cached, settings_key


def test_settings_key_is_stable_and_order_free():
    assert settings_key(dict(a=1, b=2)) == settings_key(dict(b=2, a=1))
    assert settings_key(dict(a=1)) != settings_key(dict(a=2))


def test_cached_computes_once_then_loads(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return "value"

    def save(value, path):
        path.write_text(value)

    def load(path):
        return path.read_text()

    target = tmp_path / "sub" / "thing.txt"
    assert cached(target, compute, save, load) == "value"
    assert cached(target, compute, save, load) == "value"
    assert len(calls) == 1


def test_interrupted_save_leaves_nothing(tmp_path):
    target = tmp_path / "thing.txt"

    def save(value, path):
        path.write_text("half")
        raise KeyboardInterrupt  # killed mid-write

    with pytest.raises(KeyboardInterrupt):
        cached(target, lambda: "value", save, lambda p: p.read_text())
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "thing.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            raise RuntimeError
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
