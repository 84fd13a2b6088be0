WITH docs AS (
    SELECT * FROM {{ ref('stg_sevdesk__invoices') }}
    UNION ALL
    SELECT * FROM {{ ref('stg_sevdesk__credit_notes') }}
    UNION ALL
    SELECT * FROM {{ ref('stg_sevdesk__vouchers') }}
),

positions AS (
    SELECT tenant_id, 'raw_sevdesk.invoices' AS raw_table, remote_id, _issues
    FROM {{ ref('stg_sevdesk__invoice_positions') }} WHERE NOT is_deleted
    UNION ALL
    SELECT tenant_id, 'raw_sevdesk.credit_notes', remote_id, _issues
    FROM {{ ref('stg_sevdesk__credit_note_positions') }} WHERE NOT is_deleted
    UNION ALL
    SELECT tenant_id, 'raw_sevdesk.vouchers', remote_id, _issues
    FROM {{ ref('stg_sevdesk__voucher_positions') }} WHERE NOT is_deleted
),

rejected_positions AS (
    SELECT DISTINCT tenant_id, raw_table, remote_id FROM positions WHERE {{ has_blocking_issue('_issues') }}
),

booked AS (
    SELECT tenant_id, document_raw_table AS raw_table, document_remote_id AS remote_id, sum(amount) AS paid_total
    FROM {{ ref('stg_sevdesk__payments') }}
    WHERE NOT is_deleted AND NOT is_transaction_deleted AND NOT {{ has_blocking_issue('_issues') }}
    GROUP BY tenant_id, document_raw_table, document_remote_id
),

resolved AS (
    SELECT
        d.*,
        CASE
            WHEN coalesce(rule.tax_type, legacy.tax_type) = 'net' AND NOT d.is_net_priced THEN 'gross'
            ELSE coalesce(rule.tax_type, legacy.tax_type, 'unknown')
        END AS tax_type,
        coalesce(abs(d.source_paid_amount), b.paid_total, 0) AS paid_so_far,
        {{ has_blocking_issue('d._issues') }} OR r.remote_id IS NOT NULL AS is_rejected
    FROM docs AS d
    LEFT JOIN {{ ref('stg_sevdesk__tax_types') }} AS rule
        ON rule.scheme = 'taxRule' AND rule.source_value = d.tax_rule_id
    LEFT JOIN {{ ref('stg_sevdesk__tax_types') }} AS legacy
        ON d.tax_rule_id IS NULL AND legacy.scheme = 'taxType' AND legacy.source_value = d.source_tax_type
    LEFT JOIN booked AS b ON b.tenant_id = d.tenant_id AND b.raw_table = d.raw_table AND b.remote_id = d.remote_id
    LEFT JOIN rejected_positions AS r
        ON r.tenant_id = d.tenant_id AND r.raw_table = d.raw_table AND r.remote_id = d.remote_id
),

balanced AS (
    SELECT
        *,
        CAST(CASE
            WHEN status IN ('draft', 'voided', 'paid') THEN 0
            WHEN gross_amount - paid_so_far < 0 THEN 0
            ELSE gross_amount - paid_so_far
        END AS DECIMAL(18, 2)) AS open_amount
    FROM resolved
)

SELECT
    source_system || ':' || tenant_id || ':' || remote_id AS id,
    tenant_id,
    source_system,
    remote_id,
    CAST(NULL AS BIGINT) AS remote_version,
    remote_created_at,
    remote_updated_at,
    loaded_at,
    is_deleted,
    raw_table,
    source_type,
    document_family,
    document_kind,
    document_number,
    CASE WHEN contact_remote_id IS NOT NULL THEN source_system || ':' || tenant_id || ':' || contact_remote_id END
        AS contact_id,
    contact_remote_id,
    contact_name,
    FALSE AS uses_collective_contact,
    CASE
        WHEN related_invoice_remote_id IS NOT NULL
            THEN source_system || ':' || tenant_id || ':' || related_invoice_remote_id
    END AS related_invoice_id,
    related_invoice_remote_id,
    issue_date,
    due_date,
    service_date,
    paid_on,
    currency_code,
    tax_rule_id,
    source_tax_type,
    tax_type,
    is_net_priced,
    net_amount,
    tax_amount,
    gross_amount,
    discount_amount,
    CAST(gross_amount - open_amount AS DECIMAL(18, 2)) AS paid_amount,
    open_amount,
    status,
    source_status,
    payment_term_days,
    FALSE AS is_archived,
    title,
    memo,
    is_enshrined,
    status = 'draft' AND NOT is_enshrined AND NOT is_deleted AS changeable_at_source,
    is_rejected,
    {% call issue_list() %}
        {{ issue(
            "tax_type = 'unknown'", "taxRule.id|taxType", "unknown enum value",
            "coalesce('taxRule ' || tax_rule_id, 'taxType ' || source_tax_type)", "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM balanced
