"""The seeded world: users with ready tokens, competitions 1-3, runtimes, templates.

Everything here is deterministic so that tests, the demo and docs/fake-arena.md can name it.
"""

from __future__ import annotations

from mlarena_sync.arena.model import Agent, Competition, Runtime, User

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
FIRST_NEW_AGENT_ID = 101


_USERS_BY_LOOKUP = {user.lookup: user for user in USERS}
_USERS_BY_ID = {user.id: user for user in USERS}
_COMPETITIONS_BY_ID = {comp.id: comp for comp in COMPETITIONS}
_RUNTIMES_BY_ID = {rt.id: rt for rt in RUNTIMES}


def user_by_lookup(lookup: str) -> User | None:
    return _USERS_BY_LOOKUP.get(lookup)


def user_by_id(user_id: int) -> User | None:
    return _USERS_BY_ID.get(user_id)


def competition(cid: int) -> Competition | None:
    return _COMPETITIONS_BY_ID.get(cid)


def visible_competition(cid: int, viewer_id: int | None) -> Competition | None:
    """Competition ``cid`` if the viewer may see it (public, or the viewer owns it), else None."""
    comp = competition(cid)
    if comp is None or not (comp.is_public or comp.owner_id == viewer_id):
        return None
    return comp


def competition_of(agent: Agent) -> Competition:
    """The competition of a stored agent (always one of the seeded ones)."""
    comp = competition(agent.competition_id)
    assert comp is not None, f"agent {agent.id} is in unknown competition {agent.competition_id}"
    return comp


def runtime(rid: int) -> Runtime | None:
    return _RUNTIMES_BY_ID.get(rid)
