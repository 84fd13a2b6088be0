-- asset: cdm.contacts
-- Referential integrity documents -> contacts: every invoice, credit note and bill that names a contact
-- finds it among the tenant's contacts (documents without a contact — one-time addresses, the collective
-- contact — are allowed). Returns the documents whose contact is missing.
SELECT 'invoices' AS document_table, d.id, d.contact_id
FROM cdm.invoices AS d LEFT JOIN cdm.contacts AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
UNION ALL
SELECT 'credit_notes', d.id, d.contact_id
FROM cdm.credit_notes AS d LEFT JOIN cdm.contacts AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
UNION ALL
SELECT 'bills', d.id, d.contact_id
FROM cdm.bills AS d LEFT JOIN cdm.contacts AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
