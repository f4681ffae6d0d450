"""Sequential recommenders (SASRec, Bert4Rec, GRU4Rec, Caser) over pluggable item encoders (an ID
table, or LLMEmb's frozen LLM table + adapter with collaborative alignment from
:mod:`llmemb_utils.rat`), with a seeded, resumable trainer and early stopping."""

from .backbones import BACKBONES, Backbone, Bert4Rec, Caser, GRU4Rec, SASRec, build_backbone
from .encoders import IDEncoder, ItemEncoder, build_encoder, register_encoder
from .model import SequentialRecommender
from .run import build_model, evaluate_run, train
from .trainer import Trainer, TrainingDivergedError

__all__ = [
    "BACKBONES",
    "Backbone",
    "Bert4Rec",
    "Caser",
    "GRU4Rec",
    "IDEncoder",
    "ItemEncoder",
    "SASRec",
    "SequentialRecommender",
    "Trainer",
    "TrainingDivergedError",
    "build_backbone",
    "build_encoder",
    "build_model",
    "evaluate_run",
    "register_encoder",
    "train",
]
