-- Rows that could not be mapped cleanly, one row per problem. severity "rejected": the row is left out
-- of the CDM (missing required field, malformed date or amount); "flagged": the row is in the CDM with
-- the value mapped to "unknown" (unknown enum value) or left NULL. raw_table + tenant_id + remote_id
-- reach the payload.
-- grain: model, tenant_id, remote_id, field, reason
WITH issues AS (
    SELECT 'staging.stg_lexware__contacts' AS model, 'raw_lexware.contacts' AS raw_table,
        tenant_id, source_system, remote_id, _issues
    FROM staging.stg_lexware__contacts
    UNION ALL
    SELECT 'staging.stg_lexware__sales_vouchers', raw_table, tenant_id, source_system, remote_id, _issues
    FROM staging.stg_lexware__sales_vouchers
    UNION ALL
    SELECT 'staging.stg_lexware__vouchers', 'raw_lexware.vouchers', tenant_id, source_system, remote_id, _issues
    FROM staging.stg_lexware__vouchers
    UNION ALL
    SELECT 'staging.stg_lexware__voucherlist', 'raw_lexware.voucherlist', tenant_id, source_system, remote_id,
        _issues
    FROM staging.stg_lexware__voucherlist
    UNION ALL
    SELECT 'staging.stg_lexware__payments', 'raw_lexware.payments', tenant_id, source_system, remote_id, _issues
    FROM staging.stg_lexware__payments
)

SELECT
    model,
    tenant_id,
    source_system,
    remote_id,
    raw_table,
    i.field AS field,
    i.reason AS reason,
    i.source_value AS source_value,
    CASE WHEN i.blocking THEN 'rejected' ELSE 'flagged' END AS severity,
    current_timestamp AS detected_at
FROM issues, unnest(issues._issues) AS u (i)
WHERE len(issues._issues) > 0
