"""The analyst report (`make report`): charts and an HTML page from the marts."""
