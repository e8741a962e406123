"""A made-up fact set of one template: 30 invented islands, each with a number of lighthouses and a main export.

Facts that differ only in their values interfere with each other when a small model learns them (issue #22: 40
planet facts of this kind reached 0.70 closed-book recall with the defaults of the day, while the 60 varied facts of
bench_tune reached 1.00). The values are drawn from a seeded generator so that numbers repeat nearby and exports
repeat across islands, which is what makes such families hard. Each fact has the question it is taught with and a
rewording that training never sees.
"""

from __future__ import annotations

import random

ISLANDS = (
    "Brakkor", "Tessvik", "Orlumen", "Caddrith", "Velloran", "Skarnholm", "Ambrevel", "Quillonde", "Dorsk",
    "Halvenmoor", "Ispery", "Korrandt", "Lunmar", "Merrowe", "Nethrin", "Ostravel", "Pellidor", "Rennick",
    "Sablemere", "Tarrow", "Umbrith", "Valdessa", "Wyncourt", "Yestrel", "Zorvath", "Fennick", "Gallowmere",
    "Harth", "Jessaro", "Kilbray",
)  # fmt: skip
EXPORTS = (
    "salt", "wool", "amber", "copper", "tea", "coffee", "pearls", "timber", "cotton", "honey", "olives", "tin",
    "silk", "marble", "rice",
)  # fmt: skip


def island_facts(seed: int = 7) -> list[tuple[str, str, str]]:
    """(question, answer, unseen rewording) for every island: 60 facts, two per island."""
    rng = random.Random(seed)
    facts: list[tuple[str, str, str]] = []
    for island in ISLANDS:
        lighthouses = str(rng.randint(3, 48))
        export = rng.choice(EXPORTS)
        facts.append(
            (
                f"How many lighthouses stand on the island of {island}?",
                lighthouses,
                f"The island of {island} has how many lighthouses?",
            )
        )
        facts.append(
            (
                f"What is the main export of the island of {island}?",
                export.capitalize(),
                f"Which product does the island of {island} export most?",
            )
        )
    return facts
