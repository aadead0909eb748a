"""Public request and response shapes, one module per resource (documentation of the JSON the routes send)."""
