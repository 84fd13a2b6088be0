WITH docs AS (
    SELECT
        tenant_id, source_system, remote_id, raw_table, remote_version, remote_created_at, remote_updated_at,
        loaded_at, is_deleted, document_type AS voucher_type, document_number, source_status, status,
        issue_date, due_date, service_date, contact_remote_id, contact_name,
        FALSE AS uses_collective_contact, currency_code, tax_type, net_amount, tax_amount, gross_amount,
        discount_amount, payment_term_days, related_invoice_remote_id, is_archived, title, memo, _issues
    FROM {{ ref('stg_lexware__sales_vouchers') }}
    UNION ALL
    SELECT
        tenant_id, source_system, remote_id, 'raw_lexware.vouchers' AS raw_table, remote_version,
        remote_created_at, remote_updated_at, loaded_at, is_deleted, voucher_type, document_number,
        source_status, status, issue_date, due_date, service_date, contact_remote_id, contact_name,
        uses_collective_contact, currency_code, tax_type, net_amount, tax_amount, gross_amount,
        0::DECIMAL(18, 2) AS discount_amount, NULL::INTEGER AS payment_term_days,
        NULL::VARCHAR AS related_invoice_remote_id, FALSE AS is_archived, NULL::VARCHAR AS title, memo,
        _issues
    FROM {{ ref('stg_lexware__vouchers') }}
),

rejected_lines AS (
    SELECT DISTINCT tenant_id, remote_id
    FROM {{ ref('stg_lexware__sales_voucher_lines') }}
    WHERE {{ has_blocking_issue('_issues') }}
    UNION
    SELECT tenant_id, remote_id
    FROM {{ ref('stg_lexware__voucher_items') }}
    WHERE {{ has_blocking_issue('_issues') }}
),

resolved AS (
    SELECT
        d.*,
        CASE d.voucher_type
            WHEN 'invoice' THEN 'invoice' WHEN 'salesinvoice' THEN 'invoice'
            WHEN 'creditnote' THEN 'credit_note' WHEN 'salescreditnote' THEN 'credit_note'
            WHEN 'purchaseinvoice' THEN 'bill' WHEN 'purchasecreditnote' THEN 'bill'
        END AS document_family,
        CASE d.voucher_type
            WHEN 'invoice' THEN 'invoice' WHEN 'salesinvoice' THEN 'sales_voucher'
            WHEN 'creditnote' THEN 'credit_note' WHEN 'salescreditnote' THEN 'sales_credit_voucher'
            WHEN 'purchaseinvoice' THEN 'purchase_invoice' WHEN 'purchasecreditnote' THEN 'purchase_credit_note'
        END AS document_kind,
        p.paid_on,
        CASE
            WHEN d.status IN ('draft', 'voided') THEN 0
            ELSE coalesce(p.open_amount, vl.open_amount, CASE WHEN d.status = 'paid' THEN 0 ELSE d.gross_amount END)
        END::DECIMAL(18, 2) AS open_amount
    FROM docs AS d
    LEFT JOIN {{ ref('stg_lexware__payments') }} AS p
        ON p.tenant_id = d.tenant_id AND p.remote_id = d.remote_id AND NOT p.is_deleted
    LEFT JOIN {{ ref('stg_lexware__voucherlist') }} AS vl
        ON vl.tenant_id = d.tenant_id AND vl.remote_id = d.remote_id AND NOT vl.is_deleted
)

SELECT
    source_system || ':' || tenant_id || ':' || remote_id AS id,
    tenant_id, source_system, remote_id, raw_table, remote_version, remote_created_at, remote_updated_at,
    loaded_at, is_deleted, voucher_type, document_number, source_status, issue_date, due_date, service_date,
    contact_remote_id, contact_name, uses_collective_contact, currency_code, tax_type, net_amount, tax_amount,
    gross_amount, discount_amount, payment_term_days, related_invoice_remote_id, is_archived, title, memo,
    document_family, document_kind, paid_on, open_amount,
    CASE WHEN contact_remote_id IS NOT NULL THEN source_system || ':' || tenant_id || ':' || contact_remote_id END
        AS contact_id,
    CASE
        WHEN related_invoice_remote_id IS NOT NULL
            THEN source_system || ':' || tenant_id || ':' || related_invoice_remote_id
    END AS related_invoice_id,
    CASE
        WHEN status = 'open' AND open_amount > 0 AND open_amount < gross_amount THEN 'partially_paid'
        ELSE status
    END AS status,
    (gross_amount - open_amount)::DECIMAL(18, 2) AS paid_amount,
    {{ has_blocking_issue('_issues') }} OR EXISTS (
        SELECT 1 FROM rejected_lines AS r WHERE r.tenant_id = resolved.tenant_id AND r.remote_id = resolved.remote_id
    ) AS is_rejected
FROM resolved
