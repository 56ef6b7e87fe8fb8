import itertools

import numpy as np
import pytest

from mmgrid.errors import InputError
from mmgrid.items import build_semantic_ids, collision_rate, residual_kmeans, resolve_collisions

LINE_CODEBOOK = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [10.0, 0.0]], dtype=np.float32)


def naive_resolve(codes: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Reference: scan earlier rows for the used codes, pick the nearest free codeword."""
    out = [list(map(int, row)) for row in codes]
    for i, row in enumerate(out):
        used = {out[j][-1] for j in range(i) if out[j][:-1] == row[:-1]}
        if row[-1] in used:
            free = [c for c in range(len(codebook)) if c not in used]
            dist = [float(np.linalg.norm(codebook[c] - codebook[row[-1]])) for c in free]
            row[-1] = free[int(np.argmin(dist))]
    return np.array(out)


def test_resolution_hand_computed():
    codes = np.array([[0, 1], [0, 1], [0, 1], [1, 1], [0, 2], [1, 3]])
    resolved = resolve_collisions(codes, LINE_CODEBOOK)
    # group (0,): keeps 1; 1 taken -> nearest free is 0 (dist 1); then 2 (dist 2);
    # the row with code 2 finds 2 taken -> 1 and 0 taken too -> 3. Group (1,) has no clash.
    assert resolved[:, -1].tolist() == [1, 0, 2, 1, 3, 3]
    assert (resolved[:, 0] == codes[:, 0]).all()


def test_resolution_ties_go_to_lower_code():
    codebook = np.array([[0.0], [1.0], [-1.0], [5.0]], dtype=np.float32)
    codes = np.zeros((3, 2), dtype=np.int64)
    assert resolve_collisions(codes, codebook)[:, -1].tolist() == [0, 1, 2]


def test_resolution_matches_naive_reference():
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 3, size=(200, 3))
    codes[:, -1] = rng.integers(0, 6, size=200)
    codebook = rng.normal(size=(32, 4)).astype(np.float32)
    resolved = resolve_collisions(codes, codebook)
    assert np.array_equal(resolved, naive_resolve(codes, codebook))
    assert len(np.unique(resolved, axis=0)) == 200
    assert collision_rate(codes) > 0.5 and collision_rate(resolved) == 0.0


def test_too_large_prefix_group_names_the_knobs():
    codes = np.array([[2, 0]] * 5 + [[1, 0]])
    with pytest.raises(InputError) as error:
        resolve_collisions(codes, LINE_CODEBOOK)
    message = str(error.value)
    assert "index.codebook_size" in message and "index.levels" in message
    assert "5 items" in message and "<a_2>" in message


def test_collision_rate_counts_later_duplicates():
    assert collision_rate(np.array([[0, 1], [0, 1], [0, 1], [1, 1]])) == 0.5


def test_kmeans_hand_computed_two_clusters():
    points = np.array([[0, 0], [10, 0], [0, 2], [10, 2]], dtype=np.float32)
    result = residual_kmeans(points, 1, 2, seed=0)
    codes = result.codes[:, 0]
    assert codes[0] == codes[2] != codes[1] == codes[3]
    np.testing.assert_allclose(result.codebooks[0, codes[0]], [0, 1])
    np.testing.assert_allclose(result.codebooks[0, codes[1]], [10, 1])
    assert result.residual_mse == pytest.approx((1.0,))


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, dim))
    x = centres[rng.integers(0, 12, size=n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_residual_error_decreases_and_codes_are_nearest_codewords():
    x = clustered(300, 16, seed=1)
    result = residual_kmeans(x, 4, 8, seed=3)
    errors = [float(np.mean(np.sum(x.astype(np.float64) ** 2, axis=1))), *result.residual_mse]
    assert all(a > b for a, b in itertools.pairwise(errors))
    residual = x.astype(np.float64)
    for level in range(4):
        codebook = result.codebooks[level].astype(np.float64)
        distances = ((residual[:, None, :] - codebook[None]) ** 2).sum(-1)
        assert np.array_equal(result.codes[:, level], distances.argmin(axis=1))
        residual = residual - codebook[result.codes[:, level]]
        assert np.mean(np.sum(residual**2, axis=1)) == pytest.approx(result.residual_mse[level])


def test_kmeans_is_deterministic():
    x = clustered(200, 8, seed=2)
    a, b = residual_kmeans(x, 3, 8, seed=5), residual_kmeans(x, 3, 8, seed=5)
    assert a.codebooks.tobytes() == b.codebooks.tobytes()
    assert np.array_equal(a.codes, b.codes)


def test_fewer_distinct_points_than_codes():
    distinct = clustered(5, 8, seed=4)
    x = np.repeat(distinct, 4, axis=0)
    ids = build_semantic_ids(x, 2, 16, seed=0)
    assert ids.stats["codes_used_per_level"] == [5, 1]
    assert ids.stats["collision_rate"] == pytest.approx(0.75)
    assert ids.stats["n_remapped"] == 15 and ids.stats["largest_prefix_group"] == 4
    assert ids.stats["unique"] and len(np.unique(ids.codes, axis=0)) == 20
    assert ids.codebooks.shape == (2, 16, 8)
    assert not ids.codebooks[0, 5:].any()


def test_single_level_and_fewer_items_than_codes():
    x = clustered(3, 4, seed=5)
    ids = build_semantic_ids(x, 1, 8, seed=0)
    assert sorted(ids.codes[:, 0].tolist()) == [0, 1, 2]
    assert ids.stats["largest_prefix_group"] == 3
