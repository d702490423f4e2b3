"""Figures of the book, in one style. Each function draws on a new figure and returns its axes.

Introduced where first used: digits, history and confusion in chapter 1;
soft targets and class similarity in chapter 2; s(f) and the frontier in the
s(f) chapter. The chapters draw their other figures with functions of their
own, in this module's style (``figure``, ``method_style``).

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


def plot_s_of_f(table: pd.DataFrame, method_labels: dict, fs=None):
    """The empirical s(f) as a step function, pooled over seeds (thick) and per seed
    (thin), for f from ``fs[0]`` (default 0.5) on, on a logit axis that spreads the
    levels near 1. s only changes at the runs' accuracies, so it is evaluated there."""
    lowest = 0.5 if fs is None else float(np.min(fs))
    fig, ax = figure(4.8)

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
    # under the axes: inside, it would cover the thin per-seed lines
    ax.legend(
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=2,
        frameon=False,
    )
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
    # lower left: under the small CNN students, left of the heads, where no
    # run of the full profile lies
    ax.legend(fontsize="small", loc="lower left")
    return ax
