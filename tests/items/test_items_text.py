from mmgrid.items import item_text


def test_template_with_and_without_description():
    assert item_text("Lodge Skillet", "Pre-seasoned.") == (
        "Title: Lodge Skillet\nDescription: Pre-seasoned."
    )
    assert item_text(" Lodge Skillet ", "  ") == "Title: Lodge Skillet"
    assert item_text("Lodge Skillet") == "Title: Lodge Skillet"
