"""The full-ranking protocol on a hand-built score matrix: which items are candidates on the
validation and the test split, with the user's history excluded (the default) or kept."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.eval.evaluate import evaluate, per_user_metrics
from llmemb_utils.eval.protocol import Protocol
from llmemb_utils.srs.synthetic import prepare_synthetic, raw_from_sequences

# Raw item r becomes id r + 1: user 0 is [1, 2, 3, 4, 5] (train 1-3, validation 4, test 5),
# user 1 is [6, 4, 2, 7] (train 6 and 4, validation 2, test 7).
SEQUENCES = [[0, 1, 2, 3, 4], [5, 3, 1, 6]]
# Scores of items 1..7; an identity item table makes them the users' states.
SCORES = torch.tensor([[7.0, 6.0, 5.0, 4.0, 3.0, 3.5, 1.0],
                       [0.0, 5.0, 0.0, 9.0, 0.0, 8.0, 7.0]])
# Items scoring above the target, by hand:
# user 0, validation target 4 (4.0): items 1, 2, 3; all three are its training history.
# user 1, validation target 2 (5.0): items 4, 6, 7; 4 and 6 are history, 7 (its future test
#   item) stays a candidate.
# user 0, test target 5 (3.0): items 1, 2, 3, 4, 6; history 1-3 and the validation item 4.
# user 1, test target 7 (7.0): items 4, 6; both history.
ABOVE = {("valid", True): [0, 1], ("valid", False): [3, 3],
         ("test", True): [1, 0], ("test", False): [5, 2]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> PreparedDataset:
    folder: Path = tmp_path_factory.mktemp("protocol") / "data"
    return prepare_synthetic(raw_from_sequences(SEQUENCES, 7), folder,
                             item_head_min=1, user_long_min=1)


def identity_table() -> torch.Tensor:
    return torch.eye(8)[:, 1:]  # row 0 padding, item i scores state[i - 1]


def test_the_fixture_is_what_the_comments_say(dataset: PreparedDataset) -> None:
    assert [s.tolist() for s in dataset.sequences] == [[1, 2, 3, 4, 5], [6, 4, 2, 7]]


@pytest.mark.parametrize(("split", "exclude"), sorted(ABOVE))
def test_candidates_leave_out_exactly_the_earlier_items(dataset: PreparedDataset, split: str,
                                                        exclude: bool) -> None:
    metrics = per_user_metrics(SCORES, identity_table(), dataset, split,
                               Protocol("full", exclude_history=exclude), ks=(1, 10))
    expected = [1 / math.log2(rank + 2) for rank in ABOVE[split, exclude]]
    assert metrics["NDCG@10"] == pytest.approx(expected)
    assert metrics["HR@1"].tolist() == [float(rank == 0) for rank in ABOVE[split, exclude]]


def test_history_is_excluded_by_default_and_recorded(dataset: PreparedDataset) -> None:
    assert Protocol().exclude_history and Protocol.named("full").exclude_history
    assert not Protocol.named("full", exclude_history=False).exclude_history
    default = evaluate(SCORES, identity_table(), dataset, "test", Protocol())
    with_history = evaluate(SCORES, identity_table(), dataset, "test",
                            Protocol(exclude_history=False))
    assert default["protocol"]["exclude_history"] is True
    assert with_history["protocol"]["exclude_history"] is False
    # reciprocal ranks: 1/2 and 1/1 without the history, 1/6 and 1/3 with it
    assert default["overall"]["MRR@10"] == pytest.approx(0.75)
    assert with_history["overall"]["MRR@10"] == pytest.approx(0.25)


def test_a_target_repeated_in_the_history_stays_a_candidate(tmp_path: Path) -> None:
    # user [1, 2, 1, 3, 1]: the test target 1 was seen before; it is still ranked, item 2 is not.
    data = prepare_synthetic(raw_from_sequences([[0, 1, 0, 2, 0]], 3), tmp_path / "data",
                             item_head_min=1, user_long_min=1)
    scores = torch.tensor([[1.0, 2.0, 0.0]])
    metrics = per_user_metrics(scores, torch.eye(4)[:, 1:], data, "test", Protocol(), ks=(1,))
    assert metrics["HR@1"].tolist() == [1.0]
    with_history = per_user_metrics(scores, torch.eye(4)[:, 1:], data, "test",
                                    Protocol(exclude_history=False), ks=(1,))
    assert with_history["HR@1"].tolist() == [0.0]
