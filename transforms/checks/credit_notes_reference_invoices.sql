-- asset: cdm.credit_notes
-- Referential integrity credit notes -> invoices: a credit note that names the invoice it corrects finds
-- it among the tenant's invoices. Returns the credit notes whose invoice is missing.
SELECT cn.id, cn.invoice_id
FROM cdm.credit_notes AS cn LEFT JOIN cdm.invoices AS i ON i.id = cn.invoice_id AND i.tenant_id = cn.tenant_id
WHERE cn.invoice_id IS NOT NULL AND i.id IS NULL
