-- Rows that could not be mapped cleanly, one row per problem. severity "rejected": the row is left out
-- of the CDM (missing required field, malformed date or amount; a blocking problem on a document line or
-- voucher position leaves the whole document out, one on a payment item that payment); "flagged": the row is
-- in the CDM with the value mapped to "unknown"
-- (unknown enum value) or left NULL, or with part of it dropped (more addresses than the CDM models).
-- Line-level problems (document lines, voucher positions, payment items) carry the line's key as remote_id,
-- "<document remote id>:<line_number>" as in cdm.*_lines and cdm.payments; raw_table + tenant_id + raw_id
-- reach the payload.
WITH issues AS (
    SELECT 'staging.stg_lexware__contacts' AS model, 'raw_lexware.contacts' AS raw_table,
        tenant_id, source_system, remote_id, NULL::BIGINT AS line_number, _issues
    FROM {{ ref('stg_lexware__contacts') }}
    UNION ALL
    SELECT 'staging.stg_lexware__sales_vouchers', raw_table, tenant_id, source_system, remote_id, NULL, _issues
    FROM {{ ref('stg_lexware__sales_vouchers') }}
    UNION ALL
    SELECT 'staging.stg_lexware__sales_voucher_lines', raw_table, tenant_id, source_system, remote_id,
        line_number, _issues
    FROM {{ ref('stg_lexware__sales_voucher_lines') }}
    UNION ALL
    SELECT 'staging.stg_lexware__vouchers', 'raw_lexware.vouchers', tenant_id, source_system, remote_id, NULL,
        _issues
    FROM {{ ref('stg_lexware__vouchers') }}
    UNION ALL
    SELECT 'staging.stg_lexware__voucher_items', 'raw_lexware.vouchers', tenant_id, source_system, remote_id,
        line_number, _issues
    FROM {{ ref('stg_lexware__voucher_items') }}
    UNION ALL
    SELECT 'staging.stg_lexware__voucherlist', 'raw_lexware.voucherlist', tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_lexware__voucherlist') }}
    UNION ALL
    SELECT 'staging.stg_lexware__payments', 'raw_lexware.payments', tenant_id, source_system, remote_id, NULL,
        _issues
    FROM {{ ref('stg_lexware__payments') }}
    UNION ALL
    SELECT 'staging.stg_lexware__payment_items', 'raw_lexware.payments', tenant_id, source_system, remote_id,
        item_number, _issues
    FROM {{ ref('stg_lexware__payment_items') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__contacts', 'raw_sevdesk.contacts', tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__contacts') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__invoices', raw_table, tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__invoices') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__invoice_positions', 'raw_sevdesk.invoices', tenant_id, source_system, remote_id,
        line_number, _issues
    FROM {{ ref('stg_sevdesk__invoice_positions') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__credit_notes', raw_table, tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__credit_notes') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__credit_note_positions', 'raw_sevdesk.credit_notes', tenant_id, source_system, remote_id,
        line_number, _issues
    FROM {{ ref('stg_sevdesk__credit_note_positions') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__vouchers', raw_table, tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__vouchers') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__voucher_positions', 'raw_sevdesk.vouchers', tenant_id, source_system, remote_id,
        line_number, _issues
    FROM {{ ref('stg_sevdesk__voucher_positions') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__documents', raw_table, tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__documents') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__payments', 'raw_sevdesk.check_account_transaction_logs', tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__payments') }}
    UNION ALL
    SELECT 'staging.stg_sevdesk__tax_rules', 'raw_sevdesk.tax_rules', tenant_id, source_system, remote_id,
        NULL, _issues
    FROM {{ ref('stg_sevdesk__tax_rules') }}
)

SELECT
    model,
    tenant_id,
    source_system,
    CASE WHEN line_number IS NULL THEN remote_id ELSE remote_id || ':' || line_number END AS remote_id,
    remote_id AS raw_id,
    line_number,
    raw_table,
    {{ issue_attr('i', 'field') }} AS field,
    {{ issue_attr('i', 'reason') }} AS reason,
    {{ issue_attr('i', 'source_value') }} AS source_value,
    CASE WHEN {{ issue_attr('i', 'blocking') }} THEN 'rejected' ELSE 'flagged' END AS severity,
    current_timestamp AS detected_at
FROM issues, {{ explode_issues('issues._issues', 'i') }}
WHERE {{ issue_count('issues._issues') }} > 0
