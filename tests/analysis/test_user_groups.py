"""User groups of the temporal-sweep diagnostics, on hand-made cases."""

import numpy as np

from mmgrid.analysis.user_groups import activity_groups, target_groups


def test_activity_groups_split_the_users_by_the_later_period():
    groups = activity_groups(["u1", "u2", "u3"], {"u2", "u9"}, "phase2")
    assert list(groups) == ["active in phase2", "others"]
    assert groups["active in phase2"].tolist() == [False, True, False]
    assert groups["others"].tolist() == [True, False, True]


def test_target_groups_are_disjoint_cover_and_follow_the_periods():
    targets = ["a", "b", "c", "d", "a"]
    groups = target_groups(targets, old_items={"a", "c"}, new_items=["a", "b"], old="p1", new="p2")
    assert list(groups) == ["target in both", "only in p2", "only in p1", "in neither"]
    assert groups["target in both"].tolist() == [True, False, False, False, True]
    assert groups["only in p2"].tolist() == [False, True, False, False, False]
    assert groups["only in p1"].tolist() == [False, False, True, False, False]
    assert groups["in neither"].tolist() == [False, False, False, True, False]
    assert (np.sum(list(groups.values()), axis=0) == 1).all()


def test_groups_of_no_users_are_empty():
    assert all(len(m) == 0 for m in target_groups([], {"a"}, {"b"}, "p1", "p2").values())
    assert all(len(m) == 0 for m in activity_groups([], {"u"}, "p2").values())
