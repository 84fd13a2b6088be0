{{ sevdesk_positions('credit_note_positions', 'creditNote') }}
