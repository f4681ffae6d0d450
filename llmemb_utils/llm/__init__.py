"""LLM item embeddings: model loading, tokenisation, pooling, extraction, PCA and SCFT."""
