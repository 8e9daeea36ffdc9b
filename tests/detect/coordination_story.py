"""A small story of coordinated accounts among organic ones, shared by the coordination tests
(detector, CLI, API, web): five Telegram accounts push six links in bursts seconds apart, on
six days, with the same text and reshares of the first poster's post; twenty organic accounts
post popular news links; a breaking-news hour and a pair that once shared a link a minute
apart are there to be ignored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fimiscope.core.model import Affiliation, Document, Provenance, Source

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BOTS = [f"telegram:patriot_voice_{i}" for i in range(1, 6)]
LATE_BOT = "telegram:patriot_voice_6"
USERS = [f"x:reader_{i:02d}" for i in range(1, 21)]

TEMPLATES = [
    "They do not want you to know what really happened at the border crossing near the river last night",
    "Western media stay silent while the grain convoy is turned back again at the northern checkpoint",
    "The minister admitted in a leaked recording that the sanctions are hurting ordinary families the most",
    "Independent experts confirm that the vaccine trial in the capital was stopped after secret complaints",
    "Local officials were ordered to hide the real numbers of refugees arriving in the southern towns",
    "A whistleblower says the election observers were paid to write the report before the vote was held",
]


def sources() -> list[Source]:
    reg = [Provenance(by="test registry")]
    out = [
        Source(
            name=b, platform="telegram", handle=b.split(":")[1], affiliation=Affiliation.STATE_ALIGNED, provenance=reg
        )
        for b in [*BOTS, LATE_BOT]
    ]
    out += [Source(name=u, platform="x", handle=u.split(":")[1]) for u in USERS]
    return out


def bursts(members: list[str], pushes: range, seed: int = 1, gap: tuple[int, int] = (4, 25)) -> list[Document]:
    rng = random.Random(seed)
    docs: list[Document] = []
    for p in pushes:
        order = list(members)
        rng.shuffle(order)
        when = T0 + timedelta(days=p, hours=rng.randint(0, 10))
        first: str | None = None
        for i, account in enumerate(order):
            when += timedelta(seconds=rng.randint(*gap))
            ext = f"p{p}-{account.split('_')[-1]}"
            docs.append(
                Document(
                    text=f"{TEMPLATES[p % len(TEMPLATES)]} https://truth-now.example/story-{p}?utm_source=tg{i}",
                    external_id=ext,
                    source=account,
                    platform="telegram",
                    published_at=when,
                    language="en",
                    links=[f"https://www.truth-now.example/story-{p}?utm_source=tg{i}"],
                    shared_from=first,
                )
            )
            first = first or f"{account}/{ext}"
    return docs


def organic(seed: int = 2) -> list[Document]:
    rng = random.Random(seed)
    docs: list[Document] = []
    news = [f"https://news{n}.example/article-{n}" for n in range(30)]
    for u in USERS:
        for j in range(20):
            when = T0 + timedelta(days=rng.uniform(0, 8))
            docs.append(
                Document(
                    text=f"Interesting read number {j} from {u}",
                    external_id=f"{u}-{j}",
                    source=u,
                    platform="x",
                    published_at=when,
                    language="en",
                    links=[rng.choice(news)],
                )
            )
    hour = T0 + timedelta(days=3, hours=14)  # breaking news: a dozen readers, three outlet links, one hour
    for u in USERS[:12]:
        for n in range(3):
            docs.append(
                Document(
                    text=f"Breaking: live updates {n}",
                    external_id=f"{u}-breaking-{n}",
                    source=u,
                    platform="x",
                    published_at=hour + timedelta(seconds=rng.uniform(0, 3600)),
                    links=[f"https://bignews.example/live-{n}"],
                )
            )
    once = T0 + timedelta(days=5)  # two readers, once, a minute apart
    for i, u in enumerate(USERS[12:14]):
        docs.append(
            Document(
                text="Look at this",
                external_id=f"{u}-once",
                source=u,
                platform="x",
                published_at=once + timedelta(seconds=60 * i),
                links=["https://once.example/x"],
            )
        )
    return docs


def crowd(n: int, seed: int = 3) -> list[Document]:
    """``n`` more organic accounts with three posts each: a store of realistic width, where a
    50-member group is a small share of the accounts (popularity is relative to all of them)."""
    rng = random.Random(seed)
    docs: list[Document] = []
    for a in range(n):
        for j in range(3):
            docs.append(
                Document(
                    text=f"Worth reading {j}",
                    external_id=f"crowd{a}-{j}",
                    source=f"x:crowd_{a:04d}",
                    platform="x",
                    published_at=T0 + timedelta(days=rng.uniform(0, 8)),
                    links=[f"https://news{rng.randrange(200)}.example/article-{rng.randrange(5)}"],
                )
            )
    return docs
