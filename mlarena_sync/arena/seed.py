"""The seeded world: users with ready tokens, competitions 1-3, runtimes, templates.

Everything here is deterministic so that tests, the demo and docs/fake-arena.md can name it.
A :class:`Seed` bundles one world; ``FakeArena(seed=...)`` takes one (default
:data:`STANDARD`), so a benchmark that needs wider limits builds its own instead of patching
module globals (:meth:`Seed.with_competition`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlarena_sync.arena.model import UPLOAD_VALIDATED, Agent, Competition, Runtime, User

MB = 1024 * 1024

# Secrets contain "_" on purpose: a token splits on its first three "_" only.
ALICE = User(1, "alice", "user", "alice01", "fake_alice_0123456789abcdef")
BOB = User(2, "bob", "user", "bob02", "fake_bob_0123456789abcdef")
CAROL = User(3, "carol", "creator", "carol03", "fake_carol_0123456789abcdef")
USERS: tuple[User, ...] = (ALICE, BOB, CAROL)

CODE_COMPETITION_ID = 1
FILE_COMPETITION_ID = 2
HIDDEN_COMPETITION_ID = 3

AGENT_TEMPLATE = '''"""Your agent for the CartPole competition.

The arena imports this file, instantiates ``Agent`` and calls ``predict`` with each
observation (cart position, cart velocity, pole angle, pole angular velocity).
Return 0 (push left) or 1 (push right).
"""


class Agent:
    def __init__(self):
        pass

    def predict(self, observation):
        return 0
'''

RUNTIMES: tuple[Runtime, ...] = (
    Runtime(1, "gymnasium", "python", "3.11", "gymnasium", "1.0.0", "gymnasium==1.0.0"),
    Runtime(2, "gymnasium", "python", "3.11", "torch", "2.3.1", "torch==2.3.1 gymnasium==1.0.0"),
    Runtime(3, "csv", "python", "3.11", "pandas", "2.2.2", "pandas==2.2.2"),
    Runtime(4, "pettingzoo", "python", "3.11", "pettingzoo", "1.24.3", "pettingzoo==1.24.3"),
)

COMPETITIONS: tuple[Competition, ...] = (
    Competition(
        id=CODE_COMPETITION_ID,
        name="CartPole Balance",
        description="Keep the pole up: a code competition (agent.py with an agent class).",
        kind="code",
        engine="gymnasium",
        is_public=True,
        owner_id=CAROL.id,
        max_upload_size_bytes=100 * MB,
        max_upload_files=1000,
        max_active_agents_per_participant=5,
        agent_template=AGENT_TEMPLATE,
        default_runtime_id=1,
        tags=("rl", "gymnasium"),
    ),
    Competition(
        id=FILE_COMPETITION_ID,
        name="Parity Predictions",
        description="Predict the parity of each id: a file competition (submission.csv).",
        kind="file",
        engine="csv",
        is_public=True,
        owner_id=CAROL.id,
        max_upload_size_bytes=10 * MB,
        max_upload_files=5,
        max_active_agents_per_participant=2,
        agent_template=None,
        default_runtime_id=3,
        tags=("tabular",),
    ),
    Competition(
        id=HIDDEN_COMPETITION_ID,
        name="Hidden Trial",
        description="A hidden competition: only its owner (carol) sees it.",
        kind="code",
        engine="gymnasium",
        is_public=False,
        owner_id=CAROL.id,
        max_upload_size_bytes=100 * MB,
        max_upload_files=20,
        max_active_agents_per_participant=1,
        agent_template=AGENT_TEMPLATE,
        default_runtime_id=1,
        tags=(),
    ),
)

# A seeded opponent on the code competition's leaderboard: bob's agent, already active.
BOB_AGENT_ID = 1
BOB_AGENT_NAME = "bob-baseline"
BOB_AGENT_REWARD = 21.0
# A team on the file competition (v4.6 only: v0 has no teams): bob (its owner) and alice. Bob's
# submission there is readable by alice in the v4.6 API (viewer_role "teammate"), never writable.
TEAM_AGENT_ID = 2
TEAM_AGENT_NAME = "bob-team-parity"
TEAM_ID = 1
TEAM_NAME = "parity-pals"
TEAM_SUBMISSION = "id,prediction\n1,1\n2,0\n3,1\n"
FIRST_NEW_AGENT_ID = 101


@dataclass(frozen=True)
class SeededAgent:
    """An agent (submission) present in a fresh store, with its files."""

    id: int
    competition_id: int
    owner_id: int
    name: str
    status: str
    message: str | None
    reward: float | None
    files: tuple[tuple[str, str], ...]
    apis: tuple[str, ...] = ("v0", "v4.6")  # the generations whose world holds it


@dataclass(frozen=True)
class Team:
    """A team on one challenge: every member reads the others' submissions there."""

    id: int
    challenge_id: int
    name: str
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class Seed:
    """One seeded world: who exists, which competitions, runtimes, agents and teams."""

    user: User
    other: User
    creator: User
    competitions: tuple[Competition, ...]
    runtimes: tuple[Runtime, ...]
    agents: tuple[SeededAgent, ...]
    teams: tuple[Team, ...] = ()
    first_new_agent_id: int = FIRST_NEW_AGENT_ID

    @property
    def users(self) -> tuple[User, ...]:
        return (self.user, self.other, self.creator)

    def user_by_lookup(self, lookup: str) -> User | None:
        return next((u for u in self.users if u.lookup == lookup), None)

    def user_by_id(self, user_id: int) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def competition(self, cid: int) -> Competition | None:
        return next((c for c in self.competitions if c.id == cid), None)

    def visible_competition(self, cid: int, viewer_id: int | None) -> Competition | None:
        """Competition ``cid`` if the viewer may see it (public, or the viewer owns it)."""
        comp = self.competition(cid)
        if comp is None or not (comp.is_public or comp.owner_id == viewer_id):
            return None
        return comp

    def competition_of(self, agent: Agent) -> Competition:
        """The competition of a stored agent (always one of the seeded ones)."""
        comp = self.competition(agent.competition_id)
        assert comp is not None, (
            f"agent {agent.id} is in unknown competition {agent.competition_id}"
        )
        return comp

    def runtime(self, rid: int) -> Runtime | None:
        return next((r for r in self.runtimes if r.id == rid), None)

    def team_of(self, user_id: int, challenge_id: int) -> Team | None:
        """The user's team on the challenge (one team per user per challenge), or None."""
        return next(
            (t for t in self.teams if t.challenge_id == challenge_id and user_id in t.member_ids),
            None,
        )

    def fresh_agents(self, now: str) -> list[tuple[Agent, tuple[tuple[str, str], ...]]]:
        """The seeded agents as new store records (created ``now``), each with its files."""
        out = []
        for seeded in self.agents:
            comp = self.competition(seeded.competition_id)
            agent = Agent(
                id=seeded.id,
                competition_id=seeded.competition_id,
                owner_id=seeded.owner_id,
                name=seeded.name,
                runtime_id=comp.default_runtime_id if comp is not None else 1,
                created_at=now,
                status=seeded.status,
                last_status_message=seeded.message,
                mean_reward=seeded.reward,
                updated_at=now,
            )
            out.append((agent, seeded.files))
        return out

    def for_api(self, api: str) -> Seed:
        """The world one generation starts from: v0 has no teams, so neither the team nor its
        submission exist there (a v0 store holds bob's one agent, as it always did)."""
        if api == "v4.6":
            return self
        agents = tuple(a for a in self.agents if api in a.apis)
        return dataclasses.replace(self, agents=agents, teams=())

    def with_competition(self, cid: int, **changes: object) -> Seed:
        """This world with competition ``cid``'s fields replaced (e.g. wider limits)."""
        comps = tuple(
            dataclasses.replace(c, **changes) if c.id == cid else c  # type: ignore[arg-type]
            for c in self.competitions
        )
        return dataclasses.replace(self, competitions=comps)


STANDARD = Seed(
    user=ALICE,
    other=BOB,
    creator=CAROL,
    competitions=COMPETITIONS,
    runtimes=RUNTIMES,
    agents=(
        SeededAgent(
            id=BOB_AGENT_ID,
            competition_id=CODE_COMPETITION_ID,
            owner_id=BOB.id,
            name=BOB_AGENT_NAME,
            status="active",
            message=f"Deployed: mean reward {BOB_AGENT_REWARD}",
            reward=BOB_AGENT_REWARD,
            files=(("agent.py", AGENT_TEMPLATE),),
        ),
        SeededAgent(
            id=TEAM_AGENT_ID,
            competition_id=FILE_COMPETITION_ID,
            owner_id=BOB.id,
            name=TEAM_AGENT_NAME,
            status=UPLOAD_VALIDATED,
            message="Submission validated: 3 rows",
            reward=None,
            files=(("submission.csv", TEAM_SUBMISSION),),
            apis=("v4.6",),
        ),
    ),
    teams=(Team(TEAM_ID, FILE_COMPETITION_ID, TEAM_NAME, (BOB.id, ALICE.id)),),
)


# Module-level lookups of the standard world, kept for callers written before ``Seed``.


def user_by_lookup(lookup: str) -> User | None:
    return STANDARD.user_by_lookup(lookup)


def user_by_id(user_id: int) -> User | None:
    return STANDARD.user_by_id(user_id)


def competition(cid: int) -> Competition | None:
    return STANDARD.competition(cid)


def visible_competition(cid: int, viewer_id: int | None) -> Competition | None:
    return STANDARD.visible_competition(cid, viewer_id)


def competition_of(agent: Agent) -> Competition:
    return STANDARD.competition_of(agent)


def runtime(rid: int) -> Runtime | None:
    return STANDARD.runtime(rid)
