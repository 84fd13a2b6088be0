-- Rows that could not be mapped cleanly, one row per problem. severity "rejected": the row is left out
-- of the CDM (missing required field, malformed date or amount; a blocking problem on a document line or
-- voucher position leaves the whole document out, one on a payment item that payment); "flagged": the row is
-- in the CDM with the value mapped to "unknown"
-- (unknown enum value) or left NULL, or with part of it dropped (more addresses than the CDM models).
-- Line-level problems (document lines, voucher positions, payment items) carry the line's key as remote_id,
-- "<document remote id>:<line_number>" as in cdm.*_lines and cdm.payments; raw_table + tenant_id + raw_id
-- reach the payload.
{# Every staging model with an _issues column: (model, its raw table, its line number column or NULL). #}
{% set staged = [
    ('stg_lexware__contacts', "'raw_lexware.contacts'", 'NULL'),
    ('stg_lexware__sales_vouchers', "raw_table", 'NULL'),
    ('stg_lexware__sales_voucher_lines', "raw_table", 'line_number'),
    ('stg_lexware__vouchers', "'raw_lexware.vouchers'", 'NULL'),
    ('stg_lexware__voucher_items', "'raw_lexware.vouchers'", 'line_number'),
    ('stg_lexware__voucherlist', "'raw_lexware.voucherlist'", 'NULL'),
    ('stg_lexware__payments', "'raw_lexware.payments'", 'NULL'),
    ('stg_lexware__payment_items', "'raw_lexware.payments'", 'item_number'),
    ('stg_sevdesk__contacts', "'raw_sevdesk.contacts'", 'NULL'),
    ('stg_sevdesk__invoices', "raw_table", 'NULL'),
    ('stg_sevdesk__invoice_positions', "'raw_sevdesk.invoices'", 'line_number'),
    ('stg_sevdesk__credit_notes', "raw_table", 'NULL'),
    ('stg_sevdesk__credit_note_positions', "'raw_sevdesk.credit_notes'", 'line_number'),
    ('stg_sevdesk__vouchers', "raw_table", 'NULL'),
    ('stg_sevdesk__voucher_positions', "'raw_sevdesk.vouchers'", 'line_number'),
    ('stg_sevdesk__documents', "raw_table", 'NULL'),
    ('stg_sevdesk__payments', "'raw_sevdesk.check_account_transaction_logs'", 'NULL'),
    ('stg_sevdesk__tax_rules', "'raw_sevdesk.tax_rules'", 'NULL')
] %}
WITH issues AS (
    {%- for model, raw_table, line_number in staged %}
    SELECT
        'staging.{{ model }}' AS model, {{ raw_table }} AS raw_table, tenant_id, source_system, remote_id,
        CAST({{ line_number }} AS BIGINT) AS line_number, _issues
    FROM {{ ref(model) }}
    {%- if not loop.last %}
    UNION ALL
    {%- endif %}
    {%- endfor %}
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
