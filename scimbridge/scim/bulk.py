"""The Bulk plan, with every operation of a circular reference refused as circular.

RFC 7644 §3.7.1 lets a service provider refuse a circular ``bulkId`` reference it
cannot resolve. The library's plan orders the operations so that a creation runs
before the operations that reference it; in a cycle, one of them must run first,
and only that one was refused as "part of a circular reference": the other,
which references a creation that failed, read "No resource was created with the
bulkId …", which sends the admin looking for a failure elsewhere. Here every
operation on a cycle is refused as circular, naming the bulkIds of the cycle; an
operation that only references one of them (outside the cycle) keeps the
library's answer, since nothing it references was created.
"""

from __future__ import annotations

from typing import Any

from scim2_models import BulkOperation, ConflictException, Resource
from scim2_server.bulk import BulkPlan, BulkStep


class BridgeBulkPlan(BulkPlan):
    def __init__(self, operations: list[BulkOperation[Resource[Any]]], fail_on_errors: int | None):
        super().__init__(operations, fail_on_errors)
        self.cycles = self._cycles()
        """The operations on a cycle of references, each with the bulkIds of its cycle."""

    def resolve(self, step: BulkStep) -> BulkOperation[Resource[Any]]:
        """:raises ConflictException: for an operation on a cycle of ``bulkId`` references."""
        cycle = self.cycles.get(step.index)
        if cycle is not None:
            names = ", ".join(cycle)
            raise ConflictException(
                detail=f"The bulkIds {names} reference each other: a circular reference, "
                "which cannot be resolved"
                if len(cycle) > 1
                else f"The bulkId {names} references itself: a circular reference"
            )
        return super().resolve(step)

    def _cycles(self) -> dict[int, list[str]]:
        """The strongly connected components of the references that are cycles (Tarjan's
        algorithm, iterative, so that a long chain cannot exhaust the stack)."""
        counter = 0
        number: dict[int, int] = {}
        low: dict[int, int] = {}
        stack: list[int] = []
        on_stack: set[int] = set()
        cycles: dict[int, list[str]] = {}
        for root in range(len(self.operations)):
            if root in number:
                continue
            walk = [(root, iter(self.dependencies(root)))]
            number[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while walk:
                index, dependencies = walk[-1]
                dependency = next(dependencies, None)
                if dependency is not None:
                    if dependency not in number:
                        number[dependency] = low[dependency] = counter
                        counter += 1
                        stack.append(dependency)
                        on_stack.add(dependency)
                        walk.append((dependency, iter(self.dependencies(dependency))))
                    elif dependency in on_stack:
                        low[index] = min(low[index], number[dependency])
                    continue
                walk.pop()
                if walk:
                    parent = walk[-1][0]
                    low[parent] = min(low[parent], low[index])
                if low[index] == number[index]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == index:
                            break
                    if len(component) > 1 or index in self.dependencies(index):
                        names = sorted(str(self.operations[i].bulk_id) for i in component)
                        cycles.update((member, names) for member in component)
        return cycles
