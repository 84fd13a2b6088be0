-- Credit notes issued to customers: one row per credit note. document_kind "credit_note" = written in
-- Lexware (/v1/credit-notes), "sales_credit_voucher" = bookkeeping voucher of type salescreditnote.
-- invoice_id links a Lexware credit note to the invoice it corrects (relatedVouchers); amounts positive.
-- status as in cdm.invoices (Lexware "paidoff" = paid).
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name,
    related_invoice_id AS invoice_id, related_invoice_remote_id AS invoice_remote_id,
    issue_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, discount_amount, paid_amount, open_amount,
    status, source_status, is_archived, title, memo,
    raw_table = 'raw_lexware.vouchers' AND NOT is_deleted
        AND coalesce(source_status, '') NOT IN ('unchecked', 'blank') AS changeable_at_source
FROM {{ ref('stg_lexware__documents') }}
WHERE document_family = 'credit_note' AND NOT is_rejected
UNION ALL
SELECT
    id, tenant_id, source_system, remote_id, remote_version, remote_created_at, remote_updated_at, loaded_at,
    is_deleted, raw_table,
    document_kind, document_number, contact_id, contact_remote_id, contact_name,
    related_invoice_id AS invoice_id, related_invoice_remote_id AS invoice_remote_id,
    issue_date, service_date, paid_on,
    currency_code, tax_type, net_amount, tax_amount, gross_amount, discount_amount, paid_amount, open_amount,
    status, source_status, is_archived, title, memo,
    changeable_at_source
FROM {{ ref('stg_sevdesk__documents') }}
WHERE document_family = 'credit_note' AND NOT is_rejected
