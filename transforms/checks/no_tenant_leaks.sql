-- asset: cdm.contacts
-- No tenant's rows leak into another's: every CDM id carries its own tenant, and every reference
-- (document -> contact, line -> document, payment -> document) stays inside one tenant.
WITH ids AS (
    SELECT 'contacts' AS t, id, tenant_id, source_system FROM cdm.contacts
    UNION ALL SELECT 'invoices', id, tenant_id, source_system FROM cdm.invoices
    UNION ALL SELECT 'invoice_lines', id, tenant_id, source_system FROM cdm.invoice_lines
    UNION ALL SELECT 'credit_notes', id, tenant_id, source_system FROM cdm.credit_notes
    UNION ALL SELECT 'credit_note_lines', id, tenant_id, source_system FROM cdm.credit_note_lines
    UNION ALL SELECT 'bills', id, tenant_id, source_system FROM cdm.bills
    UNION ALL SELECT 'bill_lines', id, tenant_id, source_system FROM cdm.bill_lines
    UNION ALL SELECT 'payments', id, tenant_id, source_system FROM cdm.payments
),

refs AS (
    SELECT 'invoices.contact_id' AS ref, tenant_id, contact_id AS target FROM cdm.invoices
    UNION ALL SELECT 'credit_notes.contact_id', tenant_id, contact_id FROM cdm.credit_notes
    UNION ALL SELECT 'credit_notes.invoice_id', tenant_id, invoice_id FROM cdm.credit_notes
    UNION ALL SELECT 'bills.contact_id', tenant_id, contact_id FROM cdm.bills
    UNION ALL SELECT 'invoice_lines.invoice_id', tenant_id, invoice_id FROM cdm.invoice_lines
    UNION ALL SELECT 'credit_note_lines.credit_note_id', tenant_id, credit_note_id FROM cdm.credit_note_lines
    UNION ALL SELECT 'bill_lines.bill_id', tenant_id, bill_id FROM cdm.bill_lines
    UNION ALL SELECT 'payments.document_id', tenant_id, document_id FROM cdm.payments
    UNION ALL SELECT 'payments.contact_id', tenant_id, contact_id FROM cdm.payments
)

SELECT t AS what, id, tenant_id FROM ids WHERE NOT starts_with(id, source_system || ':' || tenant_id || ':')
UNION ALL
SELECT r.ref, r.target, r.tenant_id FROM refs AS r JOIN ids AS i ON i.id = r.target
WHERE i.tenant_id <> r.tenant_id
