"""CDS Hooks 2.0: discovery, order-select and order-sign services, feedback, JWT verification."""
