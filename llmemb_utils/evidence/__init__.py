"""Evidence a reader can check: per-user rank counts saved by every run, committed run
records under ``results/``, paired bootstrap statistics and the result blocks of documents
generated from them (``llmemb report --write/--render/--check``)."""
