"""LLM item embeddings (docs/method.md §3), one job per module:

- ``models``: load a causal LM by asset name, hub id, folder or GGUF file (4-bit on CUDA)
- ``tokens``, ``pooling``: the official tokenisation; mean / last pooling in fp32
- ``extract``, ``embed``: length-sorted extraction into a memory-mapped .npy; cached tables
- ``processes``: the process group (one process, or DDP under ``accelerate launch``)
- ``pca``: deterministic dimension reduction
- ``views``, ``losses``, ``lora``, ``stack``, ``scft``: supervised contrastive fine-tuning
- ``diagnostics``: uniformity, view retrieval and neighbours of an embedding table
- ``tiny``: a tiny LLaMA built from a config, for tests
- ``commands``: ``llmemb scft`` and ``llmemb embed``
"""
