"""Connected components of an edge list (union-find with path halving): the batch jobs' clusters
and groups, computed on the driver from the pairs the executors found."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["roots"]


def roots(edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Every node that appears in ``edges`` -> the smallest node of its component."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}
