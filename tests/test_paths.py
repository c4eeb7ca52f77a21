import numpy as np
import pytest

from blox_gym import paths


def test_atomic_save_npy_round_trips_under_the_exact_name(tmp_path):
    target = tmp_path / "sub" / "hashes.npy"
    paths.atomic_save_npy(target, np.arange(5))
    assert np.array_equal(np.load(target), np.arange(5))
    assert sorted(p.name for p in target.parent.iterdir()) == ["hashes.npy"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "config.json"
    target.write_text("old")

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        paths.atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
