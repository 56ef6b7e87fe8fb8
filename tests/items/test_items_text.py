from mmgrid.items import item_text


def test_template_with_and_without_description():
    assert item_text("Lodge Skillet", "Pre-seasoned.") == (
        "Title: Lodge Skillet\nDescription: Pre-seasoned."
    )
    assert item_text(" Lodge Skillet ", "  ") == "Title: Lodge Skillet"
    assert item_text("Lodge Skillet") == "Title: Lodge Skillet"


def test_token_cut_by_hand(tmp_path):
    """One token per byte: the first N bytes of title + description, the title removed."""
    from mmgrid.items.text import truncate_by_tokens
    from tests.data.rawfiles import byte_tokenizer

    path = byte_tokenizer(tmp_path / "tokenizer.json")
    titles = ["Pan", "Pan", "Skillet", "Pan"]
    descriptions = ["Cast iron skillet", "Cast", "Heavy", ""]
    assert truncate_by_tokens(titles, descriptions, path, 8) == [
        "Cast ...",  # "PanCast " -> "Cast "
        "Cast",  # everything fits: unchanged
        "H...",  # "SkilletH" -> "H"
        "",
    ]
    # a title longer than the cut is not found in the decoded text, which is then kept whole
    assert truncate_by_tokens(["Skillet"], ["Heavy"], path, 3) == ["Ski..."]


def test_token_cut_equals_the_studys_steps_with_transformers(tmp_path):
    """An independent reference: the study's steps with a transformers tokenizer."""
    from transformers import AutoTokenizer

    from mmgrid.items.text import truncate_by_tokens
    from mmgrid.models.tokenizer import train_tokenizer
    from tests.models.catalog import make_items

    items = make_items("Kitchen", 40)
    titles, descriptions = list(items["title"]), list(items["description"])
    descriptions[0] = "Crème brûlée — 日本語 ✓ " * 4  # multi-byte characters at the cut
    train_tokenizer([*titles, *descriptions], 500, out_dir=tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    want = []
    for title, description in zip(titles, descriptions, strict=True):
        text = tokenizer.decode(tokenizer.encode(title + description)[:16])
        cut = text.split(title, 1)[-1]
        want.append(cut + "..." if len(cut) != len(description) else description)
    got = truncate_by_tokens(titles, descriptions, tmp_path / "tokenizer.json", 16)
    assert got == want
    assert any(g.endswith("...") for g in got) and any(not g.endswith("...") for g in got)
