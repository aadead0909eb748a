"""HTTP layer: dependencies, response shaping, versioned routers, self-hosted docs."""
