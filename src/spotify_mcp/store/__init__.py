"""State storage: the Store protocol, its records, and the backends."""
