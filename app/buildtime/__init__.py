"""Build-time code: what the ``ldn-kb`` CLI runs to produce committed files (the OpenAPI examples, the
README's settings table). The service never imports this package at run time (a test checks it)."""
