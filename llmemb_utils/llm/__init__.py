"""LLM item embeddings (docs/method.md §3), one job per module:

- ``models``: load a causal LM by asset name, hub id, folder or GGUF file (4-bit NF4 on
  CUDA, or on CPU when asked)
- ``tokens``, ``pooling``: the official tokenisation; mean / last pooling in fp32
- ``extract``, ``embed``: length-sorted extraction into a memory-mapped .npy; cached tables
- ``processes``: the process group (one process, or DDP under ``accelerate launch``)
- ``pca``: deterministic dimension reduction
- ``views``, ``losses``, ``lora``, ``stack``, ``scft``: supervised contrastive fine-tuning
- ``diagnostics``: uniformity, view retrieval and neighbours of an embedding table
- ``plan``, ``plan_commands``: peak-memory estimates per stage and ``llmemb plan``
- ``probe``: single SCFT steps and extraction batches on synthetic ids, for the benchmarks
- ``tiny``: tiny LLaMA and Gemma-family decoders built from a config, for tests
- ``commands``: ``llmemb scft`` and ``llmemb embed``
"""
