from fimiscope.index.components import roots


def test_roots_name_each_component_by_its_smallest_node() -> None:
    assert roots([(5, 3), (3, 9), (7, 8), (2, 2)]) == {5: 3, 3: 3, 9: 3, 7: 7, 8: 7, 2: 2}
    assert roots([]) == {}


def test_batch_clusters_are_the_components_with_two_or_more_members() -> None:
    from fimiscope.batch.laundering import clusters

    pairs = [{"a": 4, "b": 1}, {"a": 1, "b": 6}, {"a": 9, "b": 10}]
    assert clusters(pairs) == {1: [1, 4, 6], 9: [9, 10]}
