-- Payments: one row per payment booked against a document (Lexware paymentItems of /v1/payments).
-- direction "incoming" = money received (invoices, purchase credit notes), "outgoing" = money paid
-- (bills, credit notes refunded). Amounts are positive. Lexware payments carry no version or timestamps.
-- document_id points into cdm.invoices, cdm.credit_notes or cdm.bills (document_table says which).
-- Rows rejected in staging (see quarantine.issues) are left out: a rejected payment item, every item of a
-- rejected /v1/payments record, every payment of a rejected document, a sevDesk payment link whose document
-- is not in the warehouse.
SELECT
    d.id || ':' || i.item_number AS id,
    d.tenant_id,
    d.source_system,
    i.remote_id || ':' || i.item_number AS remote_id,
    NULL::BIGINT AS remote_version,
    NULL::TIMESTAMPTZ AS remote_created_at,
    NULL::TIMESTAMPTZ AS remote_updated_at,
    p.loaded_at,
    p.is_deleted OR d.is_deleted AS is_deleted,
    'raw_lexware.payments' AS raw_table,
    d.id AS document_id,
    CASE d.document_family
        WHEN 'invoice' THEN 'invoices' WHEN 'credit_note' THEN 'credit_notes' WHEN 'bill' THEN 'bills'
    END AS document_table,
    d.document_number,
    d.contact_id,
    CASE
        WHEN d.document_kind IN ('invoice', 'sales_voucher', 'purchase_credit_note') THEN 'incoming'
        ELSE 'outgoing'
    END AS direction,
    i.payment_type,
    i.payment_date,
    i.amount,
    i.currency_code,
    FALSE AS changeable_at_source
FROM {{ ref('stg_lexware__payment_items') }} AS i
JOIN {{ ref('stg_lexware__payments') }} AS p ON p.tenant_id = i.tenant_id AND p.remote_id = i.remote_id
JOIN {{ ref('stg_lexware__documents') }} AS d
    ON d.tenant_id = i.tenant_id AND d.remote_id = i.remote_id AND NOT d.is_rejected
WHERE NOT {{ has_blocking_issue('i._issues') }}
    AND NOT {{ has_blocking_issue('p._issues') }}
UNION ALL
SELECT
    p.source_system || ':' || p.tenant_id || ':' || p.remote_id,
    d.tenant_id,
    d.source_system,
    p.remote_id,
    NULL::BIGINT,
    p.remote_created_at,
    NULL::TIMESTAMPTZ,
    p.loaded_at,
    p.is_deleted OR p.is_transaction_deleted OR d.is_deleted,
    'raw_sevdesk.check_account_transaction_logs',
    d.id,
    CASE d.document_family
        WHEN 'invoice' THEN 'invoices' WHEN 'credit_note' THEN 'credit_notes' WHEN 'bill' THEN 'bills'
    END,
    d.document_number,
    d.contact_id,
    p.direction,
    p.payment_type,
    p.payment_date,
    p.amount,
    p.currency_code,
    FALSE
FROM {{ ref('stg_sevdesk__payments') }} AS p
JOIN {{ ref('stg_sevdesk__documents') }} AS d
    ON d.tenant_id = p.tenant_id AND d.raw_table = p.document_raw_table AND d.remote_id = p.document_remote_id
    AND NOT d.is_rejected
WHERE NOT {{ has_blocking_issue('p._issues') }}
