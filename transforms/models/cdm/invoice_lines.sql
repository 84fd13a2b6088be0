-- Lines of cdm.invoices: one row per line in document order. line_amount is the source amount (net or gross as
-- the document's tax_type says); net_amount, tax_amount and gross_amount are always filled for priced
-- lines (text lines have none). remote_id is the document's remote id plus ":" and the line number.
-- The SQL is the same for the three CDM line tables: macros/cdm_lines.sql.
{{ cdm_document_lines('invoices', 'invoice_id') }}
