"""Exchange adapters, one package per exchange; imported on demand by the registry."""
