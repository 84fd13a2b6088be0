"""What the operator sees in the Dagster UI (`make ui`), asserted through Dagster's Python API: assets
grouped by layer and tagged by source, with owners, kinds, descriptions and column schemas; checks,
jobs, the schedule and the sensor described; the backfill and full-refresh jobs pre-filled."""

import pytest
from dagster import AssetKey, DefaultScheduleStatus, DefaultSensorStatus

from assets.definitions import defs
from assets.meta import OWNERS
from tests.dbt_warehouse import manifest
from tests.raw_fixtures import RAW_TABLES

REPO = defs.get_repository_def()
GRAPH = REPO.asset_graph
NODES = {key: GRAPH.get(key) for key in GRAPH.get_all_asset_keys()}
LAYERS = {
    "raw_lexware": "raw",
    "raw_sevdesk": "raw",
    "staging": "staging",
    "cdm": "cdm",
    "marts": "marts",
    "quarantine": "quarantine",
    "analyst": "analyst",
}


def _column_schema(node):
    return node.metadata["dagster/column_schema"].schema


def test_every_layer_is_a_group_named_like_the_key_prefix():
    by_group: dict[str, set[str]] = {}
    for key, node in NODES.items():
        assert node.group_name == key.path[0], key
        by_group.setdefault(node.group_name, set()).add(key.path[-1])
    assert set(by_group) == set(LAYERS)
    assert by_group["raw_lexware"] == set(RAW_TABLES)
    assert by_group["staging"] and all(
        name.startswith(("stg_lexware__", "stg_sevdesk__")) for name in by_group["staging"]
    )
    assert {"invoices", "contacts", "payments"} <= by_group["cdm"]
    assert {"ar_aging", "revenue_by_month"} <= by_group["marts"]
    assert by_group["quarantine"] == {"issues"}
    assert "open_receivables_by_city" in by_group["analyst"]  # transforms/models/analyst: no code change


@pytest.mark.parametrize("key", sorted(NODES, key=lambda k: k.to_user_string()), ids=AssetKey.to_user_string)
def test_asset_has_owner_kinds_tags_and_description(key):
    node, group = NODES[key], key.path[0]
    assert node.owners == OWNERS
    assert node.kinds == ({"dlt", "duckdb"} if group.startswith("raw_") else {"dbt", "duckdb"})
    assert node.tags["layer"] == LAYERS[group]
    source = (
        group.removeprefix("raw_")
        if group.startswith("raw_")
        else key.path[-1].split("__")[0].removeprefix("stg_")
        if group == "staging"
        else "all"
    )
    assert node.tags["source"] == source
    assert node.description and len(node.description) > 30, node.description


def test_raw_assets_describe_their_endpoint_and_carry_the_raw_contract():
    for table in RAW_TABLES:
        node = NODES[AssetKey(["raw_lexware", table])]
        assert "/v1/" in node.description, table
        columns = {c.name for c in _column_schema(node).columns}
        assert columns == {"tenant_id", "source_system", "id", "version", "raw", "is_deleted", "_dlt_load_id"}
        assert node.partitions_def is not None and "demo" in node.partitions_def.get_partition_keys()


def test_documented_models_show_their_columns_before_the_first_build():
    """The catalogue reads the dbt manifest: every cdm/marts/quarantine model shows the columns its YAML
    describes (name, type, meaning) before it was ever built."""
    models = [n for n in manifest()["nodes"].values() if n["resource_type"] == "model"]
    documented = {
        f"{m['config']['schema']}/{m['name']}": m["columns"]
        for m in models
        if m["config"]["schema"] in ("cdm", "marts", "quarantine")
    }
    assert len(documented) == 21
    for table, columns in documented.items():
        shown = _column_schema(NODES[AssetKey(table.split("/"))]).columns
        assert [c.name for c in shown] == list(columns), table
        assert all(c.type and c.description for c in shown), table
    invoices = {c.name: c for c in _column_schema(NODES[AssetKey(["cdm", "invoices"])]).columns}
    assert invoices["open_amount"].type == "DECIMAL(18,2)"
    assert "{{" not in invoices["tenant_id"].description  # shared meanings (doc blocks) are rendered


def test_every_dbt_test_is_a_described_check_and_every_grain_is_checked():
    checks = {
        (k.asset_key.to_user_string(), k.name): GRAPH.get_check_spec(k)
        for k in GRAPH.asset_check_keys
        if not k.asset_key.path[0].startswith("raw_")
    }  # the raw layer's checks are the extraction's
    tests = [n for n in manifest()["nodes"].values() if n["resource_type"] == "test"]
    assert len(checks) == len(tests)
    assert all(spec.description for spec in checks.values())
    for model in manifest()["nodes"].values():
        if model["resource_type"] == "model" and model["config"]["meta"].get("grain"):
            key = f"{model['config']['schema']}/{model['name']}"
            assert any(a == key and n.startswith("unique_key_") for a, n in checks), key
    assert ("quarantine/issues", "nothing_rejected") in checks
    assert ("cdm/invoices", "document_totals_match_lines") in checks


def test_jobs_schedule_and_sensor_are_described():
    jobs = {j.name: j for j in REPO.get_all_jobs() if not j.name.startswith("__")}
    assert set(jobs) == {
        "lexware_sync",
        "lexware_backfill",
        "lexware_full_refresh",
        "kontor_transform",
        "apply_corrections",
        "apply_corrections_dry_run",
        "lexware_events",
        "lexware_event_subscriptions",
        "sevdesk_sync",
        "sevdesk_full_refresh",
    }
    assert all(j.description for j in jobs.values())
    schedule = REPO.get_schedule_def("lexware_hourly")
    assert schedule.job_name == "lexware_sync" and schedule.cron_schedule == "0 * * * *"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    assert "lexware_backfill" in schedule.description and "lexware_full_refresh" in schedule.description
    sensor = REPO.get_sensor_def("pending_corrections_sensor")
    assert sensor.job_name == "apply_corrections" and sensor.default_status == DefaultSensorStatus.STOPPED
    assert sensor.description
    events = REPO.get_sensor_def("lexware_events_sensor")
    assert events.job_name == "lexware_events" and events.default_status == DefaultSensorStatus.RUNNING
    subscriptions = REPO.get_schedule_def("lexware_subscriptions_every_15_min")
    assert subscriptions.job_name == "lexware_event_subscriptions" and subscriptions.description
    after = REPO.get_sensor_def("sync_after_writeback")
    assert after.job_name == "lexware_sync" and after.default_status == DefaultSensorStatus.RUNNING
    assert after.description


@pytest.mark.parametrize(
    "job, mode", [("lexware_sync", None), ("lexware_full_refresh", "full"), ("lexware_events", "events")]
)
def test_launchpad_prefills_the_extraction_mode_per_partition(job, mode):
    config = defs.resolve_job_def(job).partitioned_config.get_run_config_for_partition_key("demo")
    op_config = config.get("ops", {}).get("lexware_raw", {}).get("config", {})
    assert op_config.get("mode") == mode


def test_backfill_launchpad_asks_for_tenant_and_window_and_prefills_nothing():
    """No default window (a launch without one is refused before any run), no partition picker: the
    launchpad's scaffold is exactly tenant, voucher_date_from, voucher_date_to."""
    from dagster import DagsterInvalidConfigError, validate_run_config

    job = defs.resolve_job_def("lexware_backfill")
    assert job.partitions_def is None and job.tags["kontor/mode"] == "backfill"
    assert "Backfill tenant X from date A to date B" in job.description
    with pytest.raises(DagsterInvalidConfigError, match="Missing required config"):
        validate_run_config(job, {})
    op = {"tenant": "demo", "voucher_date_from": "2025-01-01", "voucher_date_to": "2025-03-31"}
    for missing in op:
        with pytest.raises(DagsterInvalidConfigError, match=missing if missing != "tenant" else "tenant"):
            validate_run_config(
                job,
                {
                    "ops": {
                        "backfill_tenant_window": {"config": {k: v for k, v in op.items() if k != missing}}
                    }
                },
            )
    with pytest.raises(DagsterInvalidConfigError, match="tenant"):  # only tenants from kontor.yaml
        validate_run_config(job, {"ops": {"backfill_tenant_window": {"config": {**op, "tenant": "nope"}}}})
    resolved = validate_run_config(job, {"ops": {"backfill_tenant_window": {"config": op}}})
    assert resolved["ops"]["backfill_tenant_window"]["config"] == op
    config_type = (
        job.run_config_schema.config_type.fields["ops"]
        .config_type.fields["backfill_tenant_window"]
        .config_type.fields["config"]
        .config_type
    )
    assert {n: f.is_required for n, f in config_type.fields.items()} == dict.fromkeys(op, True)


def test_models_rebuild_after_a_sync_without_a_toggle_in_the_ui():
    """The automation sensor is on from the start. Once every tenant's raw tables are loaded, one tick
    requests every model; later, a change to one raw table requests exactly the models that read it."""
    import warnings

    from dagster import AssetMaterialization, DagsterInstance, evaluate_automation_conditions

    from assets.extraction import tenants_partitions

    sensor = REPO.get_sensor_def("kontor_model_automation")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    models = {k for k in NODES if not k.path[0].startswith("raw_")}
    raw = [k for k in NODES if k.path[0] == "raw_lexware"]
    instance = DagsterInstance.ephemeral()

    def tick(cursor=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        return result, set(result._requested_partitions_by_asset_key)

    def materialized(keys, partitions=(None,)):
        for key in keys:
            for partition in partitions:
                instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))

    result, requested = tick()
    # models that read nothing, or only raw tables of a system no tenant uses (kontor.yaml: no sevDesk
    # tenant, so the sevDesk staging models are built empty right away instead of waiting forever)
    roots = {k for k in models if all(p.path[0] == "raw_sevdesk" for p in GRAPH.get(k).parent_keys)}
    assert {AssetKey(["marts", "as_of"]), AssetKey(["staging", "stg_sevdesk__contacts"])} <= roots
    assert requested == roots
    materialized(requested)
    materialized(raw, tenants_partitions.get_partition_keys())
    result, requested = tick(result.cursor)
    assert requested == models - roots, sorted(k.to_user_string() for k in (models - roots) ^ requested)
    materialized(requested)
    result, requested = tick(result.cursor)
    assert requested == set()  # nothing changed since
    materialized([AssetKey(["raw_lexware", "contacts"])], [tenants_partitions.get_partition_keys()[0]])
    result, requested = tick(result.cursor)
    downstream, frontier = set(), [AssetKey(["raw_lexware", "contacts"])]
    while frontier:
        children = GRAPH.get(frontier.pop()).child_keys - downstream
        downstream |= children
        frontier.extend(children)
    assert AssetKey(["cdm", "contacts"]) in downstream and AssetKey(["cdm", "payments"]) not in downstream
    assert requested == downstream


def test_write_back_runs_queue_one_at_a_time_on_the_projects_instance():
    from pathlib import Path

    from dagster import DagsterInstance

    home = Path(__file__).resolve().parent.parent / ".dagster"
    limits = DagsterInstance.from_config(str(home)).get_concurrency_config().run_queue_config
    job = REPO.get_job("apply_corrections")
    [limit] = [x for x in limits.tag_concurrency_limits if x["key"] in job.tags]
    assert limit["limit"] == 1
