-- Receivables: one row per sales invoice. document_kind "invoice" = written in Lexware (/v1/invoices),
-- "sales_voucher" = bookkeeping voucher of type salesinvoice booked from an external system.
-- status: draft, open, partially_paid, paid, voided or unknown (source value in source_status);
-- overdue is not a state here: marts derive it from due_date as of a date.
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name,
    issue_date, due_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, discount_amount, paid_amount, open_amount,
    status, source_status, payment_term_days, is_archived, title, memo,
    raw_table = 'raw_lexware.vouchers' AND NOT is_deleted
        AND coalesce(source_status, '') NOT IN ('unchecked', 'blank') AS changeable_at_source
FROM {{ ref('stg_lexware__documents') }}
WHERE document_family = 'invoice' AND NOT is_rejected
UNION ALL
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name,
    issue_date, due_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, discount_amount, paid_amount, open_amount,
    status, source_status, payment_term_days, is_archived, title, memo,
    changeable_at_source
FROM {{ ref('stg_sevdesk__documents') }}
WHERE document_family = 'invoice' AND NOT is_rejected
