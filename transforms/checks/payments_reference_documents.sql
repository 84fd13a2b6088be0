-- asset: cdm.payments
-- Referential integrity payments -> documents: every payment belongs to a document of the same tenant.
SELECT p.id, p.document_table, p.document_id
FROM cdm.payments AS p
LEFT JOIN (
    SELECT id, tenant_id FROM cdm.invoices
    UNION ALL SELECT id, tenant_id FROM cdm.credit_notes
    UNION ALL SELECT id, tenant_id FROM cdm.bills
) AS d ON d.id = p.document_id AND d.tenant_id = p.tenant_id
WHERE d.id IS NULL
