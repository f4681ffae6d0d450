"""Figures: saved where asked, labelled with the numbers they show."""

import numpy as np
import pytest

from llmemb_utils import plots


def test_save_figure_writes_png(tmp_path):
    fig = plots.popularity_curve(np.array([50, 10, 3, 1, 0]), head_min=10)
    path = plots.save_figure(fig, "pop", tmp_path)
    assert path == tmp_path / "pop.png" and path.read_bytes()[:4] == b"\x89PNG"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["head (2 items, >= 10 interactions)", "tail (3 items)"]


def test_publish_saves_shows_once_and_closes(tmp_path, monkeypatch):
    import IPython
    import IPython.display
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig = plots.popularity_curve(np.array([50, 10, 3, 1, 0]), head_min=10)
    assert plots.publish(fig, "pop", tmp_path) is None
    png = (tmp_path / "pop.png").read_bytes()
    assert len(shown) == 1 and shown[0].data == png
    pixels = int.from_bytes(png[16:20], "big")  # PNG header: width in pixels at 150 dpi
    assert shown[0].width == pixels * 2 // 3
    assert not plt.fignum_exists(fig.number)


def test_publish_outside_ipython_only_saves(tmp_path):
    plots.publish(plots.popularity_curve(np.array([5, 1]), head_min=2), "pop", tmp_path)
    assert (tmp_path / "pop.png").is_file()


def test_uniformity_figure_has_one_column_per_set():
    circle = np.stack([np.cos(np.linspace(0, 6, 50)), np.sin(np.linspace(0, 6, 50))], axis=1)
    head = np.arange(50) < 10
    fig = plots.uniformity_figure({"A": (circle, -3.21, head), "B": (circle, -1.5, head)})
    assert len(fig.axes) == 6
    assert [fig.axes[i].get_title() for i in (0, 1)] == ["A\nuniformity -3.21",
                                                         "B\nuniformity -1.50"]
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_subplotspec().colspan.start == 0]
    assert rows == ["density on the circle", "density of the angle", "items: tail / head"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["tail", "head"]


def test_popularity_curves_sort_each_dataset_and_rank_by_share_of_items():
    fig = plots.popularity_curves({"dense": np.array([1, 40, 5, 0]), "sparse": np.array([2, 7])})
    dense, sparse = fig.axes[0].get_lines()
    assert list(dense.get_xdata()) == [0.25, 0.5, 0.75, 1.0]
    assert list(dense.get_ydata()) == [40, 5, 1, 0.8]  # never-trained items drawn at 0.8
    assert list(sparse.get_xdata()) == [0.5, 1.0] and list(sparse.get_ydata()) == [7, 2]
    assert fig.axes[0].get_yscale() == "log"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["dense (4 items)", "sparse (2 items)"]


def test_loss_curve_draws_the_temperature_from_zero_without_an_offset():
    history = [{"step": s, "loss": 10.0 - s, "temperature": 3.0 + 0.004 * s} for s in range(1, 5)]
    fig = plots.loss_curve(history, smooth=2)
    right = fig.axes[1]
    fig.canvas.draw()
    low, high = right.get_ylim()
    assert low == 0 and high == pytest.approx(1.2 * 3.016)
    assert right.yaxis.get_offset_text().get_text() == ""  # ticks read as plain temperatures
    assert right.get_title() == "Learned temperature: 3.004 at the first step, 3.016 at the last"
    trailing = fig.axes[0].get_lines()[1]
    assert list(trailing.get_xdata()) == [2, 3, 4]
    assert list(trailing.get_ydata()) == [8.5, 7.5, 6.5]


def test_uniformity_points_draw_each_model_per_group_with_its_seed_spread():
    import pandas as pd

    rows = pd.DataFrame([
        {"model": m, "group": g, "mean": v, "std": s, "seeds": n}
        for m, n, values in (("ID", 3, (-3.1, -2.8, -3.4)), ("LLMEmb", 1, (-2.6, -2.4, -2.9)))
        for g, v, s in zip(("item_head", "overall", "item_tail"),  # any order in, fixed out
                           (values[2], values[0], values[1]), (0.05, 0.0, 0.1), strict=True)])
    fig = plots.uniformity_points({"dense": rows})
    ax = fig.axes[0]
    means = [[round(float(y), 6) for y in c.lines[0].get_ydata()] for c in ax.containers]
    assert means == [[-3.1, -2.8, -3.4], [-2.6, -2.4, -2.9]]  # all, tail, head for each model
    assert [t.get_text() for t in ax.get_xticklabels()] == ["all items", "tail items",
                                                           "head items"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ID (3 seeds)", "LLMEmb (1 seed)"]


def _summary(runs: list[tuple[str, str, str, str | tuple[str, str], float]]):
    """Summary rows; a group given as (group, bin label) is a bin of a binned analysis."""
    import pandas as pd

    return pd.DataFrame([{"backbone": b, "encoder": e, "protocol": p,
                          **dict(zip(("group", "bin"), g if isinstance(g, tuple) else (g, None),
                                     strict=True)),
                          "metric": "NDCG@10", "mean": v, "std": 0.0, "seeds": 3, "users": 7}
                         for b, e, p, g, v in runs])


def test_popularity_bars_order_bins_by_popularity_and_label_users():
    bins = [">=40", "10-19", "<5", "5-9", "20-39"]  # the order a JSON file sorts them in
    summary = _summary([("sasrec", e, "full", ("item_pop_bins", b), 0.01 * k)
                        for e in ("id", "llmemb") for k, b in enumerate(bins)])
    fig = plots.popularity_bin_bars(summary, bins="item_pop_bins")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == [f"{b}\n7 users" for b in ("<5", "5-9", "10-19", "20-39", ">=40")]
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:5] == pytest.approx([0.02, 0.03, 0.01, 0.04, 0.0])  # id, by popularity


def test_popularity_bins_put_sasrec_first_and_give_each_model_one_colour_in_every_panel():
    rows = [("gru4rec", e, "full", ("item_pop_bins", "<5"), 0.01) for e in ("llmemb", "id")]
    rows += [("sasrec", e, "full", ("item_pop_bins", "<5"), 0.01)
             for e in ("llmemb-id-plus-llm", "id", "llmemb")]
    fig = plots.popularity_bin_bars(_summary(rows), bins="item_pop_bins")
    assert [ax.get_title() for ax in fig.axes] == ["sasrec", "gru4rec"]
    colours = [{text.get_text().split(" ")[0]: patch.get_facecolor() for text, patch in
                zip(ax.get_legend().get_texts(), ax.get_legend().get_patches(), strict=True)}
               for ax in fig.axes]
    assert list(colours[0]) == ["id", "llmemb", "llmemb-id-plus-llm"]  # ID, LLMEmb, the rest
    assert list(colours[1]) == ["id", "llmemb"]
    assert all(colours[1][model] == colours[0][model] for model in colours[1])
    assert len(set(colours[0].values())) == 3


def test_protocol_comparison_ranks_models_under_both_protocols():
    summary = _summary([("sasrec", "id", "full", "overall", 0.04),
                        ("sasrec", "id", "sampled", "overall", 0.40),
                        ("gru4rec", "id", "full", "overall", 0.02),
                        ("gru4rec", "id", "sampled", "overall", 0.50)])
    fig = plots.protocol_comparison(summary)
    assert fig.axes[0].get_title() == "(a) sampled / full: 10x to 25x"
    lines = [line.get_ydata().tolist() for line in fig.axes[1].get_lines()]
    assert lines == [[1.0, 2.0], [2.0, 1.0]]  # the order flips
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["id-sasrec", "id-gru4rec"]  # best under full ranking first
    assert len(fig.axes[0].texts) == 0  # no label beside a point, where close ones would collide
    names = [(text.get_text(), text.xy) for text in fig.axes[1].texts]
    assert names == [("id-sasrec", (1, 2.0)), ("id-gru4rec", (1, 1.0))]  # once, sampled side


def test_protocol_comparison_leaves_a_model_at_zero_out_of_the_ratio_range():
    summary = _summary([("sasrec", "id", "full", "overall", 0.04),
                        ("sasrec", "id", "sampled", "overall", 0.40),
                        ("gru4rec", "id", "full", "overall", 0.0),
                        ("gru4rec", "id", "sampled", "overall", 0.05)])
    fig = plots.protocol_comparison(summary)
    assert fig.axes[0].get_title() == "(a) sampled / full: 10x to 10x"


def test_catalogue_cost_draws_measured_points_solid_and_the_fit_dashed():
    curves = {"extraction": {"items": [10, 20], "seconds": [1.0, 2.0],
                             "fit_items": [10, 1000], "fit_seconds": [1.0, 100.0]},
              "rat": {"items": [100, 300], "seconds": [5.0, 9.0],
                      "fit_items": [100, 1000], "fit_seconds": [5.0, 20.0]}}
    fig = plots.catalogue_cost_figure(curves)
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    styles = [(line.get_linestyle(), list(line.get_xdata())) for line in ax.get_lines()]
    assert styles == [("-", [10, 20]), ("--", [10, 1000]), ("-", [100, 300]),
                      ("--", [100, 1000])]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["extraction", "rat"]


def _comparison(model, baseline, group, ratio, interval, verdict):
    return {"backbone": "sasrec", "model": model, "baseline": baseline, "group": group,
            "ratio": ratio,
            "ratio_ci95": interval, "excludes_no_difference": verdict}


def test_ratio_forest_puts_each_comparison_on_its_line_and_fills_only_verdicts():
    rows = [_comparison("a", "llmemb", "overall", 1.2, [1.1, 1.3], True),
            _comparison("b", "llmemb", "overall", 0.9, [0.8, 1.05], False),
            _comparison("a", "llmemb", "item_tail", 2.0, [1.5, 2.5], True),
            _comparison("b", "llmemb", "item_tail", None, None, False)]  # baseline scores 0
    fig = plots.ratio_forest(rows, {"overall": "all users", "item_tail": "tail"})
    overall, tail = fig.axes
    assert [t.get_text() for t in overall.get_yticklabels()] == ["sasrec: a vs llmemb",
                                                                 "sasrec: b vs llmemb"]
    assert overall.get_xscale() == "log" and overall.get_title() == "all users"
    intervals = [line for line in overall.get_lines() if line.get_linestyle() == "-"]
    assert [(list(line.get_xdata()), list(line.get_ydata())) for line in intervals] == [
        ([1.1, 1.3], [0, 0]), ([0.8, 1.05], [1, 1])]
    points = [line for line in overall.get_lines() if line.get_marker() == "o"]
    assert [(line.get_xdata()[0], line.get_markerfacecolor()) for line in points] == [
        (1.2, points[0].get_color()), (0.9, "white")]
    assert len([line for line in tail.get_lines() if line.get_marker() == "o"]) == 1


@pytest.mark.parametrize(("low", "high", "ticks"), [
    (0.97, 1.04, [1]),  # only 1 falls inside
    (0.93, 1.08, [0.95, 1, 1.05]),  # the finest level joins a narrow range
    (0.85, 1.15, [0.9, 0.95, 1, 1.05, 1.1]),
    (0.6, 1.6, [0.8, 1, 1.25]),  # the finest level would make 7 ticks
    (0.2, 5.0, [0.25, 0.5, 1, 2, 4]),
    # ln(1 / 0.62) / 8 = 0.060 > ln(1 / 0.95) = 0.051: 0.95 would crowd 0.9 and 1
    (0.62, 1.0, [0.67, 0.8, 0.9, 1]),
])
def test_ratio_ticks_add_finer_levels_while_few_enough(low, high, ticks):
    assert plots.ratio_ticks(low, high) == ticks


def test_ratio_forest_can_give_each_metric_its_panel():
    rows = [dict(_comparison("a", "id", "overall", 1.5, [1.4, 1.6], True), metric="novelty@10"),
            dict(_comparison("a", "id", "overall", 0.8, [0.7, 0.9], True), metric="tail_share@10")]
    fig = plots.ratio_forest(rows, {"tail_share@10": "tail", "novelty@10": "novelty"},
                             panel="metric")
    tail, novelty = fig.axes
    assert [line.get_xdata()[0] for line in tail.get_lines() if line.get_marker() == "o"] == [0.8]
    assert [line.get_xdata()[0] for line in novelty.get_lines()
            if line.get_marker() == "o"] == [1.5]
