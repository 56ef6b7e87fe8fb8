import pytest

from mmgrid.items import format_sid, parse_sid, semantic_id_tokens


def test_tokens_are_level_major_and_complete():
    assert semantic_id_tokens(2, 3) == ["<a_0>", "<a_1>", "<a_2>", "<b_0>", "<b_1>", "<b_2>"]
    tokens = semantic_id_tokens(4, 256)
    assert len(tokens) == len(set(tokens)) == 1024
    assert tokens[256] == "<b_0>" and tokens[-1] == "<d_255>"


def test_format_and_parse_round_trip():
    assert format_sid([12, 3, 7]) == "<a_12><b_3><c_7>"
    assert parse_sid("<a_12><b_3><c_7>") == (12, 3, 7)
    assert parse_sid(format_sid((0, 255, 10, 0))) == (0, 255, 10, 0)


@pytest.mark.parametrize(
    "text",
    ["", "<b_1>", "<a_1><c_2>", "<a_1> <b_2>", "<a_1><b_2>x", "x<a_1>", "<a_01>", "<a_-1>", "a_1"],
)
def test_parse_rejects_malformed(text):
    with pytest.raises(ValueError, match="not a semantic ID"):
        parse_sid(text)


def test_bad_arguments():
    with pytest.raises(ValueError):
        semantic_id_tokens(27, 8)
    with pytest.raises(ValueError):
        format_sid([])
    with pytest.raises(ValueError):
        format_sid([1, -2])
