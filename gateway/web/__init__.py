"""Operations endpoints: Prometheus metrics and the health check."""
