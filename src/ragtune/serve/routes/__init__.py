"""The server's routes, one module per concern: chat, models, documents, the page and the report."""
