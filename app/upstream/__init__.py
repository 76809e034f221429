"""The upstream Actions API: client, typed outcomes, Retry-After and rate headers, shared budget."""
