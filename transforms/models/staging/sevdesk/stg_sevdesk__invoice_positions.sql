{{ sevdesk_positions('invoice_positions', 'invoice') }}
