"""Two triggers at the same moment: the database lets exactly one of them run."""

import threading

import pytest
from django.db import connection

from integrations.models import OVSIntegration
from integrations.services import claim_sync, create_integration

pytestmark = pytest.mark.django_db(transaction=True)


def test_of_many_simultaneous_claims_exactly_one_wins(user):
    integration = create_integration(
        OVSIntegration, name="Race", base_url="http://127.0.0.1:9", username="u",
        password="p", user=user,
    )
    start = threading.Barrier(8)
    results = []

    def trigger():
        start.wait()
        try:
            results.append(claim_sync(integration.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [run_id for run_id in results if run_id is not None]
    assert len(results) == 8
    assert len(winners) == 1
    integration.refresh_from_db()
    assert str(integration.sync_run_id) == str(winners[0])
