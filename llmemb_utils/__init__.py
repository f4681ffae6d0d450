"""LLMEmb reproduction kit: data preparation, LLM item embeddings (SCFT), sequential
recommenders with recommendation adaptation training (RAT), evaluation and plots."""

__version__ = "0.1.0"
