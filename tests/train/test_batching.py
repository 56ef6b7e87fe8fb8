import pytest
import torch

from mmgrid.train.batching import batch_order, pack_blocks, pad_collate


def test_pad_right_with_default_and_given_labels():
    batch = pad_collate([{"input_ids": [5, 6, 7]}, {"input_ids": [8], "labels": [-100]}], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[5, 6, 7], [-100, -100, -100]]
    assert batch["input_ids"].dtype == torch.long


def test_pad_left_and_multiple_of():
    batch = pad_collate(
        [{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4, 5]}],
        pad_id=9,
        padding_side="left",
        pad_to_multiple_of=4,
    )
    assert batch["input_ids"].tolist() == [[9, 1, 2, 3], [9, 9, 4, 5]]
    assert batch["attention_mask"].tolist() == [[0, 1, 1, 1], [0, 0, 1, 1]]
    assert batch["labels"].tolist() == [[-100, -100, 2, 3], [-100, -100, 4, 5]]


def test_pad_errors():
    with pytest.raises(ValueError, match="2 input_ids but 1 labels"):
        pad_collate([{"input_ids": [1, 2], "labels": [1]}], pad_id=0)
    with pytest.raises(ValueError, match="empty batch"):
        pad_collate([], pad_id=0)
    with pytest.raises(ValueError, match="padding_side"):
        pad_collate([{"input_ids": [1]}], pad_id=0, padding_side="middle")


def test_pack_blocks():
    docs = [[1, 2, 0], [3, 0], [4, 5, 6, 0]]
    assert pack_blocks(docs, 4) == [[1, 2, 0, 3], [0, 4, 5, 6]]  # lone trailing token dropped
    assert pack_blocks(docs, 5) == [[1, 2, 0, 3, 0], [4, 5, 6, 0]]
    assert pack_blocks([], 4) == []


def test_batch_order():
    assert batch_order(5, 2, shuffle=False, seed=0) == [[0, 1], [2, 3], [4]]
    shuffled = batch_order(10, 3, shuffle=True, seed=1)
    assert shuffled == batch_order(10, 3, shuffle=True, seed=1)
    assert shuffled != batch_order(10, 3, shuffle=True, seed=2)
    assert sorted(i for b in shuffled for i in b) == list(range(10))
    assert [len(b) for b in shuffled] == [3, 3, 3, 1]
