"""Figures of the book, in one style. Each function draws on a new figure and returns its axes.

Introduced where first used: digits, history and confusion in chapter 1;
soft targets and class similarity in chapter 2; the sweep in chapter 5;
s(f) and the frontier in chapter 6; the CNN students in chapter 7.

Every figure is drawn at the width of the book's text column (``WIDTH``
inches) and rendered as SVG, so its text is shown at its nominal size and
stays sharp on any screen; every method has one colour and one marker
throughout the book (``method_style``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib_inline.backend_inline import set_matplotlib_formats

from book import original
from book.frontier import pareto_frontier, s_of_f

WIDTH = 7.0  # inches: the text column of the book's pages
sns.set_theme(
    context="paper", style="whitegrid", font_scale=1.25
)  # 10-12 pt text
set_matplotlib_formats("svg")

# One colour and marker per method, in every chapter (keys are method names or their prefixes).
_PALETTE = sns.color_palette("colorblind")
METHOD_STYLES = {
    "mse-original": (_PALETTE[7], "v"),
    "mse-centred": (_PALETTE[4], "D"),
    "mse-scaled": (_PALETTE[5], "P"),
    "mse": (_PALETTE[0], "o"),
    "hard": (_PALETTE[1], "s"),
    "kd-T20": (_PALETTE[8], "<"),
    "kd-T100": (_PALETTE[9], ">"),
    "kd": (_PALETTE[2], "^"),
    "distilled": (_PALETTE[3], "X"),
    "scratch": (_PALETTE[6], "*"),
}


def method_style(method: str) -> tuple:
    """(colour, marker) of a method, by its name (the longest matching prefix)."""
    for prefix in sorted(METHOD_STYLES, key=len, reverse=True):
        if method == prefix or method.startswith(prefix + "-"):
            return METHOD_STYLES[prefix]
    return ("0.3", "o")


def figure(height: float, ncols: int = 1, **kwargs):
    """A new figure as wide as the text column."""
    return plt.subplots(
        1, ncols, figsize=(WIDTH, height), layout="constrained", **kwargs
    )


def _methods_plot(ax, table, x, method_labels: dict, y="test_accuracy"):
    """Every run as a small dot, the mean over seeds as a line with markers, per method."""
    for method, label in method_labels.items():
        runs = table[table.method == method]
        if runs.empty:
            continue
        colour, marker = method_style(method)
        means = runs.groupby(x)[y].mean()
        ax.plot(
            means.index,
            means.values,
            marker=marker,
            color=colour,
            label=label,
            lw=1.5,
            ms=6,
            mfc="white",
            mew=1.5,
        )
        ax.scatter(runs[x], runs[y], color=colour, s=10, alpha=0.5, lw=0)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) along the last axis, computed stably."""
    z = np.asarray(logits, dtype="float64") / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def show_digits(images, labels, n=16, title=None, ncols=8):
    """The first ``n`` images in rows of ``ncols``, each titled with its label
    (a digit, or any short text such as "4 → 9")."""
    n = min(n, len(images))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(WIDTH, 1.1 * nrows + 0.3 * bool(title)),
        layout="constrained",
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.squeeze(images[i]), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(str(labels[i]))
    if title:
        fig.suptitle(title)
    return axes


def plot_history(history: dict):
    """Loss and accuracy per epoch, training set against test set."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, acc_ax) = figure(3.0, 2)
    for ax, key, name in (
        (loss_ax, "loss", "cross-entropy"),
        (acc_ax, "accuracy", "accuracy"),
    ):
        ax.plot(
            epochs,
            history[key],
            "o-",
            color="0.55",
            label="training (dropout on)",
        )
        ax.plot(
            epochs, history[f"val_{key}"], "s-", color="black", label="test"
        )
        ax.set(xlabel="epoch", ylabel=name)
        ax.xaxis.set_major_locator(
            plt.MaxNLocator(integer=True, min_n_ticks=1)
        )
        ax.set_xlim(0.5, len(epochs) + 0.5)
    acc_ax.legend(loc="lower right")
    return loss_ax, acc_ax


def plot_confusion(labels, predictions, title=None):
    """Counts of (true, predicted) pairs, with the diagonal left blank to show the errors."""
    counts = pd.crosstab(
        pd.Series(labels, name="true digit"),
        pd.Series(predictions, name="predicted digit"),
    )
    errors = counts.where(~np.eye(len(counts), dtype=bool))
    # Numbers only where there are errors; the diagonal (correct answers) is hatched.
    annotations = errors.map(lambda n: f"{n:.0f}" if n > 0 else "")
    fig, ax = figure(5.2)
    ax.set_facecolor("0.93")
    ax.patch.set_hatch("////")
    ax.patch.set_edgecolor("white")
    sns.heatmap(
        errors,
        annot=annotations,
        fmt="",
        cmap="Reds",
        ax=ax,
        linewidths=0.5,
        linecolor="0.9",
        cbar_kws=dict(label="test errors"),
    )
    ax.grid(False)
    ax.tick_params(axis="y", rotation=0)
    if title:
        ax.set_title(title)
    return ax


def plot_soft_targets(logits: np.ndarray, temperatures, title=None):
    """One image's softmax(z / T) for several temperatures T, on a log axis whose
    floor lies below the smallest probability, so that every bar shows."""
    fig, ax = figure(3.2)
    width = 0.8 / len(temperatures)
    colours = sns.color_palette(
        "viridis", len(temperatures)
    )  # dark: cold, light: hot
    probabilities = [softmax(logits, t) for t in temperatures]
    for i, (t, p) in enumerate(zip(temperatures, probabilities)):
        ax.bar(
            np.arange(10) + i * width,
            p,
            width,
            label=f"T = {t:g}",
            color=colours[i],
        )
    floor = 10 ** np.floor(np.log10(max(np.min(probabilities), 1e-300)) - 0.5)
    ax.set(
        yscale="log",
        xlabel="class",
        ylabel="probability",
        ylim=(floor, 1.5),
        xticks=np.arange(10) + 0.4 - width / 2,
        xticklabels=range(10),
    )
    ax.legend(
        ncol=len(temperatures),
        fontsize="small",
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    if title:
        ax.set_title(title, pad=28)
    return ax


def class_similarity(logits, labels, temperature) -> pd.DataFrame:
    """Mean softmax(z / T) per true class (rows) over the other classes (columns).

    The diagonal (the true class itself) is NaN: what remains is how much
    the teacher credits each wrong class, its "dark knowledge".
    """
    mean = (
        pd.DataFrame(softmax(logits, temperature))
        .groupby(np.asarray(labels))
        .mean()
    )
    mean.index.name, mean.columns.name = "true digit", "also credited"
    return mean.where(~np.eye(len(mean), dtype=bool))


def plot_class_similarity(logits, labels, temperature, title=None):
    """``class_similarity`` as a heatmap with a colour bar; the diagonal is hatched."""
    fig, ax = figure(5.2)
    ax.set_facecolor("0.93")
    ax.patch.set_hatch("////")
    ax.patch.set_edgecolor("white")
    sns.heatmap(
        class_similarity(logits, labels, temperature),
        annot=True,
        fmt=".2f",
        cmap="viridis",
        ax=ax,
        annot_kws=dict(fontsize="small"),
        cbar_kws=dict(label=f"mean softmax(z / {temperature:g})"),
    )
    ax.grid(False)
    ax.tick_params(axis="y", rotation=0)
    ax.set(
        xlabel="class the teacher also credits",
        ylabel="true digit",
        title=title,
    )
    return ax


def plot_sweep(
    table: pd.DataFrame, x: str, method_labels: dict, log_x=False, ylim=None
):
    """Test accuracy against ``x`` per method: every run as a dot, the seed mean as a line,
    and the original's published points as crosses."""
    fig, ax = figure(4.0)
    _methods_plot(ax, table, x, method_labels)
    ax.scatter(
        original.SWEEP[x],
        original.SWEEP.test_accuracy,
        marker="x",
        s=50,
        color="black",
        label="original (one run each)",
        zorder=5,
    )
    ax.set(
        ylabel="test accuracy",
        ylim=ylim,
        xlabel={
            "params": "parameters",
            "compression_rate": "compression rate",
        }.get(x, x),
    )
    if log_x:
        ax.set_xscale("log")
    ax.legend(fontsize="small")
    return ax


def _logit_accuracy(ax, which="y"):
    """Make ``ax``'s ``which`` axis an accuracy axis on a logit scale (equal steps from
    0.9 to 0.99 to 0.999), ticked at round accuracies written plainly (chapter 6)."""
    from matplotlib.ticker import (
        FixedLocator,
        NullLocator,
        StrMethodFormatter,
    )

    getattr(ax, f"set_{which}scale")("logit", nonpositive="clip")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(
        FixedLocator(
            [
                0.1,
                0.2,
                0.3,
                0.5,
                0.7,
                0.8,
                0.9,
                0.95,
                0.98,
                0.99,
                0.995,
                0.998,
                0.999,
            ]
        )
    )
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_locator(NullLocator())


def plot_accuracy_by_seed(
    table: pd.DataFrame,
    size="params",
    method_labels: dict | None = None,
    zoom=0.97,
):
    """acc(size) of each single run, one line per seed and one column per method: the
    object the original looked at. The top row shows each method's whole range (its
    own y axis); the bottom row zooms on the accuracies from ``zoom`` up (from the
    median accuracy if no run reaches ``zoom``), where the drops are small. Every
    point where a seed's accuracy is lower than at the next smaller size is circled."""
    import textwrap

    from matplotlib.lines import Line2D

    labels = method_labels or dict(
        table[["method", "method_label"]].drop_duplicates().values
    )
    if not (table.test_accuracy >= zoom).any():
        zoom = float(table.test_accuracy.median())
    fig, axes = plt.subplots(
        2,
        len(labels),
        figsize=(WIDTH, 5.6),
        layout="constrained",
        height_ratios=[1.2, 1],
        squeeze=False,
    )
    dashes = ["-", "--", ":", "-."]
    seeds = sorted(table.seed.unique())
    for col, (method, label) in enumerate(labels.items()):
        colour, marker = method_style(method)
        method_runs = table[table.method == method]
        for ax in axes[:, col]:
            for seed, runs in method_runs.groupby("seed"):
                runs = runs.sort_values(size)
                ax.plot(
                    runs[size],
                    runs.test_accuracy,
                    ls=dashes[seeds.index(seed) % 4],
                    color=colour,
                    marker=marker,
                    ms=3,
                    lw=1.1,
                )
                drop = (runs.test_accuracy.diff() < 0).to_numpy()
                ax.scatter(
                    runs[size][drop],
                    runs.test_accuracy[drop],
                    s=80,
                    facecolors="none",
                    edgecolors="black",
                    lw=1.1,
                    zorder=5,
                )
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(
                plt.NullFormatter()
            )  # no crowded 2x10^5 labels
        top, bottom = axes[:, col]
        top.set_title(textwrap.fill(label, 18), fontsize="medium")
        top.axhspan(
            zoom, 1, color="0.85", zorder=0
        )  # the region the bottom row shows
        high = method_runs.test_accuracy.max()
        above = method_runs[method_runs.test_accuracy >= zoom]
        if len(above):
            bottom.set_xlim(
                above[size].min() / 1.4, method_runs[size].max() * 1.4
            )
        bottom.set_ylim(
            zoom, high + 0.1 * (high - zoom) if high > zoom else zoom + 0.01
        )
        bottom.set_xlabel("parameters")
    axes[0, 0].set_ylabel("test accuracy")
    axes[1, 0].set_ylabel(f"the same, from {zoom:.3g}")
    handles = [
        Line2D(
            [], [], color="0.3", ls=dashes[i % 4], lw=1.1, label=f"seed {s}"
        )
        for i, s in enumerate(seeds)
    ]
    handles.append(
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=9,
            mfc="none",
            mec="black",
            label="lower than at the next smaller size",
        )
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles),
        fontsize="small",
        frameon=False,
    )
    return axes


def plot_s_of_f(table: pd.DataFrame, method_labels: dict, fs=None):
    """The empirical s(f) as a step function, pooled over seeds (thick) and per seed
    (thin), for f from ``fs[0]`` (default 0.5) on, on a logit axis that spreads the
    levels near 1. s only changes at the runs' accuracies, so it is evaluated there."""
    lowest = 0.5 if fs is None else float(np.min(fs))
    fig, ax = figure(4.0)

    def draw(runs, **style):
        reached = runs.test_accuracy[runs.test_accuracy > lowest]
        levels = np.unique(np.r_[lowest, reached])
        # s(f) on (previous level, level] is s(level): a step drawn "pre".
        ax.step(levels, s_of_f(runs, levels).to_numpy(), where="pre", **style)

    for method, label in method_labels.items():
        runs = table[table.method == method]
        colour, _ = method_style(method)
        draw(runs, color=colour, lw=2.5, label=label)
        for _, one_seed in runs.groupby("seed"):
            draw(one_seed, color=colour, lw=0.8, alpha=0.6)
    _logit_accuracy(ax, "x")
    highest = table.test_accuracy.max()
    ax.set(
        yscale="log",
        xlabel="accuracy level f (logit scale)",
        ylabel="s(f): parameters of the\nsmallest model reaching f",
        xlim=(lowest, 1 / (1 + (1 - highest) / highest * 0.7)),
    )
    ax.legend(fontsize="small", loc="upper left")
    return ax


def plot_frontier(table: pd.DataFrame, method_labels: dict):
    """Every run as a point, and the Pareto frontier over all of them, on a logit
    accuracy axis (it spreads the accuracies near 1, where the frontier is)."""
    fig, ax = figure(4.0)
    for method, label in method_labels.items():
        runs = table[table.method == method]
        colour, marker = method_style(method)
        ax.scatter(
            runs.params,
            runs.test_accuracy,
            color=colour,
            marker=marker,
            s=22,
            alpha=0.6,
            label=label,
        )
    front = pareto_frontier(table)
    ax.step(
        front.params,
        front.test_accuracy,
        where="post",
        color="black",
        lw=1.5,
        label="Pareto frontier",
    )
    _logit_accuracy(ax)
    ax.set(
        xscale="log",
        xlabel="parameters",
        ylabel="test accuracy (logit scale)",
    )
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_kd_grid(grid: pd.DataFrame):
    """Held-out accuracy for every (T, alpha), one panel per hidden size, stacked: the
    mean over seeds as the colour (one scale for all panels, one colour bar) and as
    the number, with the seed SD after it."""
    sizes = sorted(grid.k.unique())
    stats = grid.groupby(["k", "alpha", "temperature"]).holdout_accuracy.agg(
        ["mean", "std"]
    )
    lowest, highest = stats["mean"].min(), stats["mean"].max()
    fig, axes = plt.subplots(
        len(sizes),
        1,
        figsize=(WIDTH, 0.6 + 1.5 * len(sizes)),
        layout="constrained",
        sharex=True,
        squeeze=False,
    )
    axes = axes[:, 0]
    for ax, k in zip(axes, sizes):
        at_k = stats.loc[k]
        means = at_k["mean"].unstack("temperature")
        labels = (
            at_k["mean"].map("{:.3f}".format)
            + " ± "
            + at_k["std"].map("{:.3f}".format).replace("nan", "–")
        ).unstack("temperature")
        sns.heatmap(
            means,
            annot=labels,
            fmt="",
            cmap="viridis",
            vmin=lowest,
            vmax=highest,
            ax=ax,
            cbar=False,
            annot_kws={"fontsize": 9},
            linewidths=0.5,
            linecolor="white",
        )
        ax.set_title(f"k = {k} hidden units", loc="left", fontsize="medium")
        ax.set_xlabel("")
        ax.set_ylabel("α", rotation=0, labelpad=8, va="center")
        ax.set_yticklabels([f"{a:g}" for a in means.index], rotation=0)
    axes[-1].set_xlabel("temperature T")
    axes[-1].set_xticklabels([f"{t:g}" for t in means.columns])
    fig.colorbar(
        axes[0].collections[0],
        ax=list(axes),
        shrink=0.8,
        pad=0.02,
        label="held-out accuracy, mean over seeds",
    )
    return axes


def plot_cnn_students(
    table: pd.DataFrame, teacher_accuracy: float, levels=(0.98, 0.99)
):
    """Test accuracy against parameters per training method: every seed a dot, the
    mean a line; the teacher's accuracy and the accuracy ``levels`` as lines."""
    from book.models import TEACHER_PARAMS

    _, ax = figure(3.6)
    _methods_plot(
        ax,
        table,
        "params",
        dict(table[["method", "method_label"]].drop_duplicates().values),
    )
    ax.axhline(
        teacher_accuracy,
        color="black",
        lw=1,
        label=f"teacher ({TEACHER_PARAMS:,} parameters)",
    )
    for level in levels:
        ax.axhline(level, color="grey", lw=0.8, ls=":")
        ax.annotate(
            f"{level:g}",
            (1, level),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
            color="grey",
        )
    ax.set(xscale="log", xlabel="student parameters", ylabel="test accuracy")
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_bias_raise(
    curves: pd.DataFrame,
    summary: pd.DataFrame,
    digit: int,
    labels: dict | None = None,
):
    """Held-out accuracy and test errors on ``digit`` against the raise of its bias, per
    method (mean over seeds, in the method's colour), with each seed's held-out choice
    dotted; ``labels`` maps method names to legend labels."""
    labels = labels or {}
    fig, (held_ax, test_ax) = figure(3.2, 2, sharex=True)
    for method, runs in curves.groupby("method", sort=False):
        colour, _ = method_style(method)
        mean = runs.groupby("bias_raise")[
            ["heldout_accuracy", "test_digit_errors"]
        ].mean()
        held_ax.plot(
            mean.index,
            mean.heldout_accuracy,
            color=colour,
            lw=1.5,
            label=labels.get(method, method),
        )
        test_ax.plot(mean.index, mean.test_digit_errors, color=colour, lw=1.5)
        for raise_by in summary[summary.method == method].bias_raise:
            for ax in (held_ax, test_ax):
                ax.axvline(raise_by, color=colour, lw=0.8, ls=":")
    held_ax.set(
        xlabel=f"raise of the {digit}'s bias",
        ylabel="held-out accuracy",
        title="held-out images: chooses",
    )
    # symlog: from every test 3 wrong down to none on one readable axis
    top = 2 * max(int(summary.test_digit_images.max()), 1)
    test_ax.set(
        xlabel=f"raise of the {digit}'s bias",
        ylabel=f"test {digit}s misclassified",
        title="test set: reports",
        yscale="symlog",
        ylim=(0, top),
    )
    fig.legend(
        loc="outside lower center",
        ncols=curves.method.nunique(),
        frameon=False,
        fontsize="small",
    )
    return held_ax, test_ax
