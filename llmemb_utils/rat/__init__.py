"""RAT, recommendation adaptation training (docs/method.md §4.2, §4.4): the LLMEmb item encoder.

The LLM item table (:mod:`.inputs`, written by ``llmemb embed``) is reduced by PCA
(:mod:`.table`), frozen, and mapped by a trained adapter (:mod:`.adapter`) to the
recommender's item vectors; the alignment loss (:mod:`.alignment`) pulls them towards an
ID-SASRec teacher's. :mod:`.ablations` switches one part off. Importing this package registers
the encoder as ``llmemb`` (``llmemb train --encoder llmemb``).
"""

from ..llm.item_table import LLMTable, load_llm_table
from .ablations import ABLATIONS, Ablation, effective_settings
from .adapter import build_adapter
from .alignment import ALIGN_FORMS, alignment_loss
from .encoder import LLMEmbEncoder
from .inputs import Teacher, load_teacher
from .table import padded_table, reduce_table

__all__ = [
    "ABLATIONS",
    "ALIGN_FORMS",
    "Ablation",
    "LLMEmbEncoder",
    "LLMTable",
    "Teacher",
    "alignment_loss",
    "build_adapter",
    "effective_settings",
    "load_llm_table",
    "load_teacher",
    "padded_table",
    "reduce_table",
]
