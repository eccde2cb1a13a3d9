"""One demo stack (`python -m frontend demo`: Tessera + front-end on SQLite) for the e2e tests."""

import pytest

from tests.e2e.agent import UserAgent
from tests.e2e.stack import start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    running = start_stack(folder / "state", folder / "demo.log")
    yield running
    code = running.interrupt()
    assert code == 0, running.output()


@pytest.fixture
def agent(stack):
    user_agent = UserAgent(stack.issuer)
    yield user_agent
    user_agent.close()
