"""``llmemb train``, ``llmemb evaluate`` and ``llmemb report``: thin CLI over :mod:`.run` and
:mod:`..eval.results`."""

from __future__ import annotations

import argparse
from typing import Any

import torch

from ..config import add_config_arguments, given_overrides, load_cli_config
from ..data.dataset import PreparedDataset
from ..eval.results import write_report
from ..evidence import commands as evidence_commands
from ..rat import ABLATIONS, ALIGN_FORMS  # also registers the ``llmemb`` encoder
from .backbones import BACKBONES
from .encoders import ENCODERS
from .losses import LOSSES
from .run import PROTOCOLS, evaluate_run, train

SHOWN = ("HR@10", "NDCG@10")
THREADS_HELP = ("CPU threads for PyTorch (default: all cores; use fewer on a shared machine, "
                "where oversubscribed threads can be 10x slower)")


def register(subparsers: argparse._SubParsersAction) -> None:
    trainer = subparsers.add_parser(
        "train", help="train a sequential recommender; writes checkpoints, the item table and "
                      "test metrics (full and sampled) into --out")
    trainer.add_argument("--data", required=True, help="prepared dataset folder")
    trainer.add_argument("--backbone", choices=sorted(BACKBONES), help="default: srs.backbone")
    trainer.add_argument("--encoder", choices=sorted(ENCODERS), default="id",
                         help="item encoder (default: id)")
    trainer.add_argument("--out", required=True, help="run folder (resumed if interrupted)")
    trainer.add_argument("--loss", choices=LOSSES, help="default: srs.loss")
    trainer.add_argument("--seed", type=int, help="default: the config's seed")
    trainer.add_argument("--epochs", type=int, help="default: srs.epochs")
    add_config_arguments(trainer)
    trainer.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    trainer.add_argument("--threads", type=int, help=THREADS_HELP)
    rat = trainer.add_argument_group("LLMEmb encoder (--encoder llmemb; default: the rat section)")
    rat.add_argument("--llm-emb", help="LLM item table from `llmemb embed` "
                     "(default: the run's embeddings/<scft|raw>.npy)")
    rat.add_argument("--teacher", help="run folder of a finished ID-SASRec on the same data")
    rat.add_argument("--alpha", type=float, help="weight of the alignment loss (0: none)")
    rat.add_argument("--align-form", choices=ALIGN_FORMS)
    rat.add_argument("--tau", type=float, help="temperature of the official alignment form")
    rat.add_argument("--cosine-tau", type=float, help="temperature of the cosine form")
    rat.add_argument("--pca-dim", type=int, help="LLM table width after PCA")
    rat.add_argument("--ablation", choices=sorted(ABLATIONS))
    trainer.set_defaults(handler=run_train)

    evaluator = subparsers.add_parser(
        "evaluate", help="evaluate a trained run's best checkpoint on the test split")
    evaluator.add_argument("--run", required=True, help="run folder written by `llmemb train`")
    evaluator.add_argument("--protocol", choices=PROTOCOLS, default="full")
    evaluator.add_argument("--data", help="dataset folder (default: the one the run recorded)")
    history = evaluator.add_mutually_exclusive_group()
    history.add_argument("--with-history", dest="exclude_history", action="store_false",
                         default=None, help="full ranking: keep the user's earlier items among "
                         "the candidates (default: as the run's srs.exclude_history, which "
                         "leaves them out unless the config says otherwise)")
    history.add_argument("--exclude-history", dest="exclude_history", action="store_true",
                         default=None, help="full ranking: leave the user's earlier items out")
    evaluator.add_argument("--device", default="auto")
    evaluator.add_argument("--threads", type=int, help=THREADS_HELP)
    evaluator.set_defaults(handler=run_evaluate)

    reporter = subparsers.add_parser(
        "report", help="mean ± std over seeds of runs' test metrics, as a Markdown table; "
                       "run records and the result blocks of documents")
    reporter.add_argument("runs", nargs="*", help="run folders written by `llmemb train`")
    reporter.add_argument("--out", help="also write the table to this file")
    evidence_commands.add_arguments(reporter)
    reporter.set_defaults(handler=run_report)


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def run_train(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    config = load_cli_config(args, **given_overrides({
        "srs.backbone": args.backbone, "srs.loss": args.loss, "srs.epochs": args.epochs,
        "seed": args.seed, "rat.llm_emb": args.llm_emb, "rat.teacher": args.teacher,
        "rat.alpha": args.alpha, "rat.align_form": args.align_form, "rat.tau": args.tau,
        "rat.cosine_tau": args.cosine_tau, "rat.pca_dim": args.pca_dim,
        "rat.ablation": args.ablation}))
    dataset = PreparedDataset.load(args.data)
    results = train(config, dataset, args.out, encoder=args.encoder, device=args.device)
    for protocol, metrics in results.items():
        _print(f"test ({protocol})", metrics)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    metrics = evaluate_run(args.run, args.protocol, data=args.data,
                           exclude_history=args.exclude_history, device=args.device)
    _print(f"test ({args.protocol})", metrics)
    return 0


def run_report(args: argparse.Namespace) -> int:
    if not (args.runs or args.render or args.check or args.split_gap or args.neighbours
            or args.views or args.compare or args.verify is not None):
        raise ValueError("give run folders, --split-gap DIR, --neighbours DIR, --views DIR, "
                         "--compare DIR, --verify [DIR], --render DOC or --check DOC")
    if args.runs:
        print(write_report(args.runs, *[args.out] if args.out else []))
    return evidence_commands.run(args)


def _print(title: str, metrics: dict[str, Any]) -> None:
    cells = [f"{name} {metrics['overall'][name]:.4f}" for name in SHOWN]
    print(f"{title}: " + ", ".join(cells))
