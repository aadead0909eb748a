"""Operations: JSON logs, request ids, Prometheus metrics and the request instrumentation middleware."""
