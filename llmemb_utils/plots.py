"""Every figure of the kit, saved through :func:`save_figure` into ``figures/`` (and shown
inline once by :func:`publish` in a notebook).

Plot functions take data (arrays, dicts), return the matplotlib ``Figure`` and never compute
metrics themselves. The palette is colour-blind safe (Okabe-Ito).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd

if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .eval.results import protocol_table, users_per_bin  # noqa: E402
from .layout import figures_dir  # noqa: E402

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")
MARKERS = ("o", "s", "^")
LOG_TICKS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
# Ratio ticks from coarse to fine, each level symmetric about 1 on a log axis.
RATIO_TICK_LEVELS = ((0.1, 0.25, 0.5, 1, 2, 4, 10), (0.8, 1.25), (0.67, 0.9, 1.1, 1.5),
                     (0.95, 1.05))


def save_figure(fig: plt.Figure, name: str, folder: str | Path | None = None) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` (150 dpi, tight) and return the path."""
    folder = Path(folder) if folder is not None else figures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight", metadata={"Software": None})
    return path


def publish(fig: plt.Figure, name: str, folder: str | Path | None = None) -> None:
    """Save ``fig`` like :func:`save_figure`, show that PNG inline when running in IPython, and
    close the figure so that no backend shows it a second time.

    The PNG is displayed at 100 pixels per inch of the figure (it is saved at 150), so it fits
    a notebook page and stays sharp on high-density screens.
    """
    path = save_figure(fig, name, folder)
    plt.close(fig)
    from IPython import get_ipython

    if get_ipython() is not None:
        from IPython.display import Image, display

        png = path.read_bytes()
        display(Image(png, width=int.from_bytes(png[16:20], "big") * 2 // 3))


def popularity_curve(popularity: np.ndarray, head_min: int) -> plt.Figure:
    """Items ranked by training popularity on log-log axes, with the head/tail boundary."""
    counts = np.sort(np.asarray(popularity))[::-1]
    ranks = np.arange(1, len(counts) + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    head = counts >= head_min
    ax.loglog(ranks[head], np.maximum(counts[head], 0.8), ".", ms=3, color=PALETTE[0],
              label=f"head ({head.sum():,} items, >= {head_min} interactions)")
    ax.loglog(ranks[~head], np.maximum(counts[~head], 0.8), ".", ms=3, color=PALETTE[1],
              label=f"tail ({(~head).sum():,} items)")
    ax.set_xlabel("item rank by training popularity")
    return _popularity_axes(fig, ax, "Long-tail item popularity")


def _popularity_axes(fig: plt.Figure, ax: plt.Axes, title: str) -> plt.Figure:
    """The y label, title, legend and grid every training-popularity figure shares."""
    ax.set_ylabel("training interactions (0 drawn at 0.8)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, which="both", lw=0.4)
    return fig


def popularity_curves(popularities: dict[str, np.ndarray]) -> plt.Figure:
    """Several datasets' items sorted by training popularity, overlaid on one log-y axis.

    The x axis is an item's rank as a share of its dataset's items, so that catalogues of
    different sizes compare point by point; items never seen in training are drawn at 0.8.
    """
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for colour, (label, popularity) in zip(PALETTE, popularities.items(), strict=False):
        counts = np.sort(np.asarray(popularity))[::-1]
        share = np.arange(1, len(counts) + 1) / len(counts)
        ax.plot(share, np.maximum(counts, 0.8), color=colour, lw=1.6,
                label=f"{label} ({len(counts):,} items)")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("items, most popular first (share of the dataset's items)")
    return _popularity_axes(fig, ax, "Training popularity, item by item")


def sequence_length_histogram(lengths: np.ndarray, long_min: int) -> plt.Figure:
    """Histogram of user sequence lengths (log-spaced bins) with the short/long boundary."""
    lengths = np.asarray(lengths)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    bins = np.unique(np.geomspace(max(lengths.min(), 1), lengths.max() + 1, 30).astype(int))
    ax.hist(lengths, bins=bins, color=PALETTE[0], edgecolor="white", lw=0.5)
    ax.axvline(long_min, color=PALETTE[3], ls="--", lw=1.2,
               label=f"long users: >= {long_min} training items")
    ax.set_xscale("log")
    ax.set_xticks([t for t in LOG_TICKS if lengths.min() <= t <= lengths.max()])
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("training sequence length (items)")
    ax.set_ylabel("users")
    ax.set_title("User sequence lengths")
    ax.legend(frameon=False, fontsize=8)
    return fig


UNIFORMITY_ROWS = ("density on the circle", "density of the angle", "items: tail / head")


def uniformity_figure(views: dict[str, tuple[np.ndarray, float, np.ndarray]]) -> plt.Figure:
    """Side-by-side 2-D views of embedding sets (Wang and Isola / DirectAU style).

    ``views`` maps a title to ``(points, uniformity, is_head)``: unit-circle points (N x 2,
    e.g. from :func:`llmemb_utils.geometry.project_to_circle`), the uniformity of the full
    vectors, and a head-item mask. Rows, named on the left: Gaussian KDE on the circle, angle
    density, points coloured tail / head (one legend for the figure, below the grid).
    """
    from scipy.stats import gaussian_kde

    fig, axes = plt.subplots(3, len(views), figsize=(3.0 * len(views), 8.4), squeeze=False,
                             gridspec_kw={"height_ratios": [1.0, 0.55, 1.0]})
    for ax in axes[1, 1:]:
        ax.sharey(axes[1, 0])  # angle densities on one scale
    grid = np.linspace(-1.25, 1.25, 121)
    mesh = np.stack(np.meshgrid(grid, grid)).reshape(2, -1)
    angle_grid = np.linspace(-np.pi, np.pi, 361)
    for column, (title, (points, value, is_head)) in enumerate(views.items()):
        density = gaussian_kde(points.T, bw_method=0.25)(mesh).reshape(len(grid), len(grid))
        top, middle, bottom = axes[:, column]
        top.contourf(grid, grid, density, levels=20, cmap="viridis")
        top.set_title(f"{title}\nuniformity {value:.2f}", fontsize=9)
        angles = np.arctan2(points[:, 1], points[:, 0])
        wrapped = np.concatenate([angles - 2 * np.pi, angles, angles + 2 * np.pi])
        middle.fill_between(angle_grid, 3 * gaussian_kde(wrapped, bw_method=0.1)(angle_grid),
                            color=PALETTE[0], alpha=0.6)
        middle.set_xlim(-np.pi, np.pi)
        middle.set_xlabel("angle (radians)", fontsize=8)
        for mask, colour, label in ((~is_head, PALETTE[1], "tail"),
                                    (is_head, PALETTE[0], "head")):
            bottom.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.5, color=colour,
                           label=label, linewidths=0)
        for ax in (top, bottom):
            ax.set_xlim(-1.25, 1.25)
            ax.set_ylim(-1.25, 1.25)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, label in zip(axes[:, 0], UNIFORMITY_ROWS, strict=True):
        ax.set_ylabel(label, fontsize=8)
    handles, labels = axes[2, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8,
               markerscale=3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def uniformity_points(panels: dict[str, pd.DataFrame]) -> plt.Figure:
    """One panel per dataset: each model's item-table uniformity (mean ± std over seeds)
    overall, on tail and on head items, from
    :func:`llmemb_utils.evidence.table_geometry.uniformity_by_model` rows of one backbone.
    Points rather than bars: the differences are small beside the values' distance from 0."""
    groups = {"overall": "all items", "item_tail": "tail items", "item_head": "head items"}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False,
                             sharey=True)
    for ax, (title, rows) in zip(axes[0], panels.items(), strict=True):
        models = list(dict.fromkeys(rows["model"]))
        for k, model in enumerate(models):
            cells = rows[rows["model"] == model].set_index("group").reindex(list(groups))
            seeds = int(cells["seeds"].max())
            ax.errorbar(np.arange(len(groups)) + (k - (len(models) - 1) / 2) * 0.15,
                        cells["mean"], yerr=cells["std"], fmt="o", capsize=3,
                        color=PALETTE[k % len(PALETTE)],
                        label=f"{model} ({seeds} seed{'s' if seeds > 1 else ''})")
        ax.set_xticks(np.arange(len(groups)), list(groups.values()))
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3, axis="y", lw=0.4)
    axes[0][0].set_ylabel("uniformity (lower: more spread out)")
    fig.tight_layout()
    return fig


def loss_curve(history: list[dict[str, float]], smooth: int = 10) -> plt.Figure:
    """SCFT loss per optimiser step with a trailing mean, and the learned temperature.

    The temperature axis starts at 0 and shows plain values (no offset), so that a change of
    a few thousandths does not fill the panel and read as a large one."""
    steps = np.array([h["step"] for h in history])
    loss = np.array([h["loss"] for h in history])
    window = max(1, min(smooth, len(loss)))
    trailing = np.convolve(loss, np.ones(window) / window, mode="valid")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(steps, loss, color=PALETTE[0], alpha=0.35, lw=0.8, label="per step")
    left.plot(steps[window - 1:], trailing, color=PALETTE[0], lw=1.6,
              label=f"mean of last {window}")
    left.set_xlabel("optimiser step")
    left.set_ylabel("contrastive loss")
    left.set_title("SCFT loss")
    left.legend(frameon=False, fontsize=8)
    temperature = np.array([h["temperature"] for h in history])
    right.plot(steps, temperature, color=PALETTE[1])
    right.set_ylim(0, 1.2 * temperature.max())
    right.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter(useOffset=False))
    right.set_xlabel("optimiser step")
    right.set_ylabel("temperature t (axis from 0)")
    right.set_title(f"Learned temperature: {temperature[0]:.3f} at the first step, "
                    f"{temperature[-1]:.3f} at the last", fontsize=9)
    for ax in (left, right):
        ax.grid(alpha=0.3, lw=0.4)
    fig.tight_layout()
    return fig


def explained_variance(ratios: dict[str, np.ndarray]) -> plt.Figure:
    """Cumulative PCA explained variance of one or more embedding tables."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for colour, (label, ratio) in zip(PALETTE, ratios.items(), strict=False):
        cumulative = np.cumsum(ratio)
        ax.plot(np.arange(1, len(ratio) + 1), cumulative, color=colour, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("principal components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.01)
    ax.set_title("PCA of item embeddings")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, which="both", lw=0.4)
    return fig


def rat_training_curves(logs: dict[str, list[dict]], alpha: float) -> plt.Figure:
    """Per-epoch training logs (``train_log.json``) of several runs: recommendation loss,
    alignment loss (the logged ``align`` term divided by ``alpha``, for runs that have one)
    and validation NDCG@10."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    panels = (("rec", "recommendation loss"), ("align", "alignment loss (unweighted)"),
              ("NDCG@10", "validation NDCG@10"))
    for colour, (label, log) in zip(PALETTE, logs.items(), strict=False):
        epochs = [entry["epoch"] for entry in log]
        values = {"rec": [entry["losses"]["rec"] for entry in log],
                  "NDCG@10": [entry["valid"]["NDCG@10"] for entry in log]}
        if "align" in log[0]["losses"]:
            values["align"] = [entry["losses"]["align"] / alpha for entry in log]
        for ax, (key, _) in zip(axes, panels, strict=True):
            if key in values:
                ax.plot(epochs, values[key], color=colour, label=label, marker=".", ms=3)
    for ax, (_, title) in zip(axes, panels, strict=True):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3, lw=0.4)
    axes[0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def popularity_bin_bars(summary: pd.DataFrame, bins: str = "item_pop_quintiles",
                        metric: str = "NDCG@10", protocol: str = "full") -> plt.Figure:
    """One panel per backbone: ``metric`` (mean ± std over seeds) of each encoder in every
    item-popularity bin of the test targets (``item_pop_quintiles`` or the official code's
    ``item_pop_bins``), from :func:`llmemb_utils.eval.results.summarize`."""
    # imported here: the evidence package pulls in the training stack, which a notebook
    # drawing any other figure does not need (and whose progress bars warn in a kernel)
    from .evidence.render import backbone_order, display_order

    rows = summary[(summary["metric"] == metric) & (summary["protocol"] == protocol)
                   & (summary["group"] == bins)]
    backbones = sorted(set(rows["backbone"]), key=backbone_order)  # SASRec first
    by_model = sorted(set(rows["encoder"]), key=lambda encoder: display_order("", encoder))
    colours = {encoder: PALETTE[k % len(PALETTE)] for k, encoder in enumerate(by_model)}
    fig, axes = plt.subplots(1, len(backbones), figsize=(max(5.5, 4.2 * len(backbones)), 3.6),
                             squeeze=False, sharey=True)  # one panel: room for 4-digit counts
    for ax, backbone in zip(axes[0], backbones, strict=True):
        panel = rows[rows["backbone"] == backbone]
        users = users_per_bin(panel, bins)
        labels = list(users)
        encoders = [encoder for encoder in by_model if encoder in set(panel["encoder"])]
        width = 0.8 / len(encoders)
        for k, encoder in enumerate(encoders):
            cells = panel[panel["encoder"] == encoder].set_index("bin").reindex(labels)
            seeds = int(cells["seeds"].max())
            ax.bar(np.arange(len(labels)) + (k - (len(encoders) - 1) / 2) * width,
                   cells["mean"], width, yerr=cells["std"], capsize=2,
                   color=colours[encoder],  # one colour per model in every panel
                   label=f"{encoder} ({seeds} seed{'s' if seeds > 1 else ''})")
        ax.set_xticks(np.arange(len(labels)), [f"{b}\n{n} users" for b, n in users.items()],
                      fontsize=8)
        ax.set_xlabel("training interactions of the test item")
        ax.set_title(backbone)
        ax.legend(frameon=False, fontsize=8)
    axes[0][0].set_ylabel(f"{metric} ({protocol} ranking)")
    fig.suptitle("Accuracy by item popularity: ID vs LLMEmb")
    fig.tight_layout()
    return fig


def protocol_comparison(summary: pd.DataFrame, metric: str = "NDCG@10",
                        group: str = "overall") -> plt.Figure:
    """Full ranking against the 100-negative sampled protocol, per model: (a) the two values
    on log axes, (b) each model's rank under both, where crossing lines mean reordering.

    Panel (a) names the models in a legend, not beside the points: models with close scores
    would put their labels on top of each other."""
    table = protocol_table(summary, metric, group)
    labels = [f"{encoder}-{backbone}" for backbone, encoder in table.index]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    colours = [PALETTE[k % len(PALETTE)] for k in range(len(table))]
    # Past the palette's length a colour comes back, with another marker.
    markers = [MARKERS[k // len(PALETTE) % len(MARKERS)] for k in range(len(table))]
    for label, colour, marker, (x, y) in zip(
            labels, colours, markers, table[["full", "sampled"]].to_numpy(), strict=True):
        left.scatter([x], [y], color=colour, marker=marker, s=30, zorder=3, label=label)
    left.legend(frameon=False, fontsize=7, loc="best")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(f"{metric}, full ranking")
    left.set_ylabel(f"{metric}, 1 positive + 100 sampled negatives")
    ratios = table.loc[table["full"] > 0, "sampled / full"]  # a model at 0 has no ratio
    left.set_title(f"(a) sampled / full: {ratios.min():.0f}x to {ratios.max():.0f}x")
    ranks = table[["rank (full)", "rank (sampled)"]].to_numpy(dtype=float)
    for k, label in enumerate(labels):  # named once, on the right, clear of panel (a)
        right.plot([0, 1], ranks[k], "-", marker=markers[k], color=colours[k])
        right.annotate(label, (1, ranks[k][1]), fontsize=7, xytext=(6, 0),
                       textcoords="offset points", va="center")
    right.set_xlim(-0.2, 2.2)
    right.set_xticks([0, 1], ["full ranking", "sampled"])
    right.set_yticks(range(1, len(table) + 1))
    right.invert_yaxis()
    right.set_ylabel("rank (1 = best)")
    right.set_title("(b) rank of each model")
    for side in ("top", "right"):
        right.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def scft_gain_figure(gain: pd.DataFrame, metric: str = "NDCG@10") -> plt.Figure:
    """RAT on each SCFT table over RAT on the raw LLM table, by SCFT steps, one line per
    number of LoRA layers, overall and on tail items, with the paired 95 % intervals
    (:func:`llmemb_utils.evidence.scft_gain.scft_gain`); above 1, SCFT helped."""
    groups = {"overall": "(a) all test users", "item_tail": "(b) tail-item test targets"}
    steps = sorted(set(gain["steps"]))
    layers = sorted(set(gain["lora_layers"]), key=lambda n: float("inf") if pd.isna(n) else n)
    fig, axes = plt.subplots(1, len(groups), figsize=(9, 3.8), sharey=True)
    for ax, (group, title) in zip(axes, groups.items(), strict=True):
        for k, count in enumerate(layers):
            rows = gain[(gain["group"] == group) & (gain["lora_layers"].isna() if pd.isna(count)
                                                    else gain["lora_layers"] == count)]
            rows = rows.sort_values("steps")
            x = [steps.index(s) + (k - (len(layers) - 1) / 2) * 0.06 for s in rows["steps"]]
            errors = np.abs(rows[["ratio_low", "ratio_high"]].to_numpy(dtype=float).T
                            - rows["ratio"].to_numpy(dtype=float))
            ax.errorbar(x, rows["ratio"], yerr=errors, fmt="o-", capsize=3,
                        color=PALETTE[k % len(PALETTE)],
                        label="every layer" if pd.isna(count) else f"top {int(count)} layers")
        ax.axhline(1.0, color="0.4", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(steps)), [f"{s} steps" for s in steps])
        ax.set_xlim(-0.5, len(steps) - 0.5)
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel(f"{metric}: SCFT table / raw table")
    axes[0].legend(frameon=False, fontsize=8, title="LoRA on", title_fontsize=8)
    fig.tight_layout()
    return fig


def catalogue_cost_figure(curves: dict[str, dict[str, list[float]]]) -> plt.Figure:
    """Seconds against items on log-log axes, one line per stage: the measured points solid,
    the fitted power law dashed over the sizes it is extrapolated to. ``curves`` maps a stage
    to ``items`` and ``seconds`` (measured) and ``fit_items`` and ``fit_seconds``."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, (stage, curve) in enumerate(curves.items()):
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(curve["items"], curve["seconds"], "o-", color=colour, label=stage)
        ax.plot(curve["fit_items"], curve["fit_seconds"], "--", color=colour, alpha=0.7)
    ax.set(xscale="log", yscale="log", xlabel="items in the catalogue", ylabel="seconds",
           title="Measured (solid) and extrapolated (dashed)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    return fig


def ratio_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """The ratio ticks between ``low`` and ``high``: each finer level of
    ``RATIO_TICK_LEVELS`` joins while the ticks stay at most ``most`` and no two of them sit
    closer than an eighth of the axis on its log scale (their labels would overlap)."""
    closest = np.log(high / low) / 8
    ticks: list[float] = []
    for level in RATIO_TICK_LEVELS:
        joined = sorted(ticks + [t for t in level if low <= t <= high])
        crowded = len(joined) > 1 and np.diff(np.log(joined)).min() < closest
        if ticks and (len(joined) > most or crowded):
            break
        ticks = joined
    return ticks


def ratio_forest(rows: list[dict], groups: dict[str, str], metric: str = "NDCG@10",
                 panel: str = "group") -> plt.Figure:
    """Paired comparisons as a forest plot: one line per ``backbone: model vs baseline`` (the
    rows' order, top to bottom), one panel per group, the ratio model / baseline with its 95 %
    interval on a log axis. A filled marker is a verdict (the difference's interval excludes
    0 by more than its Monte-Carlo error), a hollow one a tie. ``rows`` are comparison rows
    (``Experiment.comparisons``) of one protocol and metric; ``groups`` maps a group to its
    panel title. ``panel="metric"`` puts the rows in panels by metric instead (``groups``
    then maps metrics), e.g. one panel per beyond-accuracy measure. A row whose baseline
    scores 0 has no ratio and is left out."""
    def label(row: dict) -> str:
        return f"{row['backbone']}: {row['model']} vs {row['baseline']}"

    labels = list(dict.fromkeys(map(label, rows)))
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups) + 2.2,
                                                      0.42 * len(labels) + 1.3),
                             sharey=True, squeeze=False)
    for ax, (group, title) in zip(axes[0], groups.items(), strict=True):
        for row in (row for row in rows if row[panel] == group and row["ratio"] is not None):
            y = labels.index(label(row))
            low, high = row["ratio_ci95"] or (row["ratio"], row["ratio"])
            colour = PALETTE[0] if row["excludes_no_difference"] else "0.45"
            ax.plot([low, high], [y, y], "-", color=colour, linewidth=1.6)
            ax.plot([row["ratio"]], [y], "o", color=colour, markersize=6,
                    markerfacecolor=colour if row["excludes_no_difference"] else "white")
        ax.axvline(1.0, color="0.4", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_xticks(ratio_ticks(*ax.get_xlim()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", which="both", alpha=0.25)
    axes[0][0].set_yticks(range(len(labels)), labels, fontsize=8)
    axes[0][0].set_ylim(len(labels) - 0.5, -0.5)
    fig.supxlabel(f"{metric}: model / baseline (paired 95 % interval; filled: interval "
                  "excludes 1)", fontsize=9)
    fig.tight_layout()
    return fig
