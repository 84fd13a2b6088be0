-- Payables: one row per purchase voucher (Lexware bookkeeping vouchers of type purchaseinvoice, kind
-- "purchase_invoice", and purchasecreditnote, kind "purchase_credit_note"; amounts positive for both).
-- contact_id is NULL when the voucher is booked on the collective supplier (uses_collective_contact).
-- status as in cdm.invoices.
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name, uses_collective_contact,
    issue_date, due_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, paid_amount, open_amount,
    status, source_status, memo,
    raw_table = 'raw_lexware.vouchers' AND NOT is_deleted
        AND coalesce(source_status, '') NOT IN ('unchecked', 'blank') AS changeable_at_source
FROM {{ ref('stg_lexware__documents') }}
WHERE document_family = 'bill' AND NOT is_rejected
UNION ALL
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name, uses_collective_contact,
    issue_date, due_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, paid_amount, open_amount,
    status, source_status, memo,
    changeable_at_source
FROM {{ ref('stg_sevdesk__documents') }}
WHERE document_family = 'bill' AND NOT is_rejected
