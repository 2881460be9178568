"""History reads go to the replica only when asked, and never inside a write transaction."""

import pytest
from django.db import connections, transaction
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from portal.models import User
from portal.ops import db as ops_db
from portal.ops.db import ReplicaRouter, read_alias, replica_reads, use_replica


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(ops_db, "replica_configured", lambda: True)


def test_without_a_replica_everything_reads_the_primary():
    with replica_reads():
        assert read_alias() == "default"


@pytest.mark.django_db(transaction=True)
def test_reads_go_to_the_replica_only_inside_replica_reads(with_replica):
    router = ReplicaRouter()
    assert router.db_for_read(User) == "default"
    with replica_reads():
        assert router.db_for_read(User) == "replica"
        with transaction.atomic():
            # Money paths lock and read their rows on the primary.
            assert router.db_for_read(User) == "default"
    assert router.db_for_read(User) == "default"


def test_writes_and_migrations_stay_on_the_primary(with_replica):
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_write(User) == "default"
    assert router.allow_migrate("default", "wallets") is True
    assert router.allow_migrate("replica", "wallets") is False
    assert router.allow_relation(object(), object()) is True


def test_use_replica_renders_template_responses_inside_the_block(with_replica):
    seen = []

    class Probe:
        def __str__(self):
            seen.append(read_alias())
            return "probe"

    template = engines["django"].from_string("{{ probe }}")

    @use_replica
    def history(request):
        return TemplateResponse(request, template, {"probe": Probe()})

    response = history(RequestFactory().get("/history"))
    assert response.is_rendered
    assert response.content == b"probe"
    # The lazy value was evaluated while rendering, inside the replica block.
    assert seen == ["replica"]
    assert read_alias() == "default"


@pytest.fixture
def replica_alias(transactional_db, settings, with_replica):
    """A "replica" connection to the test database, routed by ReplicaRouter.

    Like a streaming replica it is a second connection to the same data. It is
    created, then left out of the configured aliases so the test framework's
    per-alias guards (set up before it existed) leave it alone.
    """
    connections.settings["replica"] = {**connections.settings["default"]}
    replica = connections["replica"]
    del connections.settings["replica"]
    settings.DATABASE_ROUTERS = ["portal.ops.db.ReplicaRouter"]
    yield replica
    replica.close()
    del connections["replica"]


def test_history_reads_run_on_the_replica_connection(replica_alias):
    user = User.objects.create_user(username="replica-reader", email="replica@example.com")
    with CaptureQueriesContext(replica_alias) as on_replica:
        with CaptureQueriesContext(connections["default"]) as on_primary:
            with replica_reads():
                assert User.objects.get(pk=user.pk).username == "replica-reader"
                with transaction.atomic():
                    User.objects.select_for_update().get(pk=user.pk)
                    User.objects.filter(pk=user.pk).exists()
            User.objects.filter(pk=user.pk).exists()
    assert len(on_replica.captured_queries) == 1
    # The locked read, the read inside the transaction, the read after the block.
    selects = [q for q in on_primary.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert len(selects) == 3
