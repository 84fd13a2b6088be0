"""A dry run of the write-back looks like one: its own job (title `apply_corrections_dry_run`) that cannot
be switched to writing, tagged `kontor/dry_run`, with the before/after diff in its tags (the run's header);
a dry run launched through `apply_corrections` with `dry_run: true` gets the same tags."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance, DagsterInvalidConfigError, validate_run_config

from assets.extraction import KontorConfigResource
from assets.writeback import DRY_RUN_TAG, PLAN_TAG, apply_corrections, apply_corrections_dry_run
from tests.test_writeback_sandbox import (  # noqa: F401 - fixtures
    client,
    contact,
    fresh_contacts,
    kontor,
    sandbox,
    store,
    vat_correction,
)


def test_the_dry_run_job_cannot_write():
    with pytest.raises(DagsterInvalidConfigError):
        validate_run_config(
            apply_corrections_dry_run, {"ops": {"apply_pending_corrections": {"config": {"dry_run": False}}}}
        )
    resolved = validate_run_config(apply_corrections_dry_run, {"tenant": "demo"})
    assert resolved["ops"]["apply_pending_corrections"]["config"]["dry_run"] is True
    assert apply_corrections_dry_run.tags[DRY_RUN_TAG] == "true"
    assert apply_corrections_dry_run.description.startswith("DRY RUN")


@pytest.mark.parametrize(
    "job, run_config",
    [
        (apply_corrections_dry_run, {}),
        (apply_corrections, {"ops": {"apply_pending_corrections": {"config": {"dry_run": True}}}}),
    ],
)
def test_a_dry_run_is_tagged_with_its_diff_and_writes_nothing(
    sandbox,
    kontor,
    store,
    fresh_contacts,
    job,
    run_config,
):
    cid = next(fresh_contacts)
    before = contact(sandbox, cid)
    correction = vat_correction(store, sandbox, cid)
    new_value = store.get(correction).new_value
    instance = DagsterInstance.ephemeral()
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance,
        resources={"kontor": KontorConfigResource(path=str(kontor.path))},
    )
    assert result.success
    tags = instance.get_run_by_id(result.run_id).tags
    assert tags[DRY_RUN_TAG] == "true"
    assert new_value in tags[PLAN_TAG] and f"#{correction}" in tags[PLAN_TAG]
    assert contact(sandbox, cid)["version"] == before["version"]  # nothing written
    assert store.get(correction).status == "pending"


def test_a_real_apply_is_not_tagged_as_a_dry_run():
    assert DRY_RUN_TAG not in apply_corrections.tags
