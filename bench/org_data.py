"""Bulk upload data: an organisation as groups.csv and users.csv, the same for the same seed.

Groups form a 5-level tree (5 regions, 20 countries, 75 areas, 200 cities, 700 teams: 1,000
groups) listed in shuffled order, so children often come before their parents. Every user is in
one or two groups and holds one or two of the profiles, and some names are not in Latin script.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence

from enabley.uploads import groups_file, users_file

HIERARCHY = ["Region", "Country", "Area", "City", "Team"]
LEVELS = (5, 20, 75, 200, 700)
PROFILES = 50
# The upload's own column lists: every column, in the order the files document them.
GROUP_COLUMNS = groups_file.COLUMNS
USER_COLUMNS = users_file.COLUMNS
FIRST = ["Ana", "João", "Maria", "Wei", "Olga", "Yuki", "Fatima", "Lars", "Chloé", "Kofi", "Анна", "美咲"]
LAST = ["Souza", "Silva", "Chen", "Ivanova", "Sato", "Haddad", "Berg", "Dubois", "Mensah", "Петров", "山田"]
ROLES = ["LEARNER", "LEARNER", "LEARNER", "LEARNER;MANAGER", "INSTRUCTOR;LEARNER"]


def profile_ids() -> list[str]:
    return [f"profile-{i}" for i in range(PROFILES)]


def group_ids() -> list[str]:
    return [f"group-{level}-{i}" for level, size in enumerate(LEVELS) for i in range(size)]


def to_csv(columns: Sequence[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def groups_csv(seed: int = 1) -> str:
    rnd = random.Random(seed)
    rows: list[list[str]] = []
    for level, size in enumerate(LEVELS):
        for i in range(size):
            parent = f"group-{level - 1}-{rnd.randrange(LEVELS[level - 1])}" if level else ""
            sub = rnd.choice(["EU", "US", ""])
            rows.append([f"group-{level}-{i}", f"{HIERARCHY[level]} {i}", parent, HIERARCHY[level], sub])
    rnd.shuffle(rows)
    return to_csv(GROUP_COLUMNS, rows)


def users_csv(users: int, seed: int = 1, changed_every: int = 0) -> str:
    """``changed_every``: when > 0, every n-th user gets another first name (an update)."""
    rnd = random.Random(seed)
    groups, profiles = group_ids(), profile_ids()
    rows: list[list[str]] = []
    for i in range(users):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        if changed_every and i % changed_every == 0:
            first = f"{first}-{seed}"
        rows.append(
            [
                f"user-{i}",
                f"user{i}@example.com",
                first,
                last,
                f"user.{i}",
                f"+55 11 5555 {i % 10000:04d}",
                f"Rua {rnd.randrange(1, 2000)}, São Paulo",
                "true" if rnd.random() > 0.05 else "false",
                rnd.choice(ROLES),
                rnd.choice(["EU", "US", ""]),
                ";".join(rnd.sample(groups, rnd.randint(1, 2))),
                ";".join(rnd.sample(profiles, rnd.randint(1, 2))),
            ]
        )
    return to_csv(USER_COLUMNS, rows)
