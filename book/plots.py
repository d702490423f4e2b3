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
sns.set_theme(context="paper", style="whitegrid", font_scale=1.25)  # 10-12 pt text
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
    return plt.subplots(1, ncols, figsize=(WIDTH, height), layout="constrained", **kwargs)


def _methods_plot(ax, table, x, method_labels: dict, y="test_accuracy"):
    """Every run as a small dot, the mean over seeds as a line with markers, per method."""
    for method, label in method_labels.items():
        runs = table[table.method == method]
        if runs.empty:
            continue
        colour, marker = method_style(method)
        means = runs.groupby(x)[y].mean()
        ax.plot(means.index, means.values, marker=marker, color=colour, label=label, lw=1.5, ms=6,
                mfc="white", mew=1.5)
        ax.scatter(runs[x], runs[y], color=colour, s=10, alpha=0.5, lw=0)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) along the last axis, computed stably."""
    z = np.asarray(logits, dtype="float64") / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def show_digits(images, labels, n=16, title=None):
    fig, axes = plt.subplots(2, n // 2, figsize=(WIDTH, 2.4), layout="constrained")
    for ax, image, label in zip(axes.flat, images, labels):
        ax.imshow(np.squeeze(image), cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return axes


def plot_history(history: dict):
    """Loss and accuracy per epoch, training set against test set."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, acc_ax) = figure(3.0, 2)
    for ax, key, name in ((loss_ax, "loss", "cross-entropy"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, history[key], "o-", label="training (dropout on)")
        ax.plot(epochs, history[f"val_{key}"], "s-", label="test")
        ax.set(xlabel="epoch", ylabel=name)
    acc_ax.legend()
    return loss_ax, acc_ax


def plot_confusion(labels, predictions):
    """Counts of (true, predicted) pairs, with the diagonal left blank to show the errors."""
    counts = pd.crosstab(
        pd.Series(labels, name="true digit"), pd.Series(predictions, name="predicted digit")
    )
    errors = counts.where(~np.eye(len(counts), dtype=bool))
    fig, ax = figure(5.2)
    sns.heatmap(errors, annot=True, fmt=".0f", cmap="Reds", ax=ax, linewidths=0.5, linecolor="0.9",
                cbar_kws=dict(label="test errors"))
    ax.set_title("Test errors by true and predicted digit (diagonal omitted)")
    return ax


def plot_soft_targets(logits: np.ndarray, temperatures, title=None):
    """One image's softmax(z / T) for several temperatures T, on a log axis."""
    fig, ax = figure(3.2)
    width = 0.8 / len(temperatures)
    for i, t in enumerate(temperatures):
        ax.bar(np.arange(10) + i * width, softmax(logits, t), width, label=f"T = {t}")
    ax.set(yscale="log", xlabel="class", ylabel="probability", xticks=np.arange(10) + 0.4,
           xticklabels=range(10), ylim=(1e-12, 1.5))
    ax.legend(ncol=len(temperatures), fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False)
    if title:
        ax.set_title(title, pad=28)
    return ax


def class_similarity(logits, labels, temperature) -> pd.DataFrame:
    """Mean softmax(z / T) per true class (rows) over the other classes (columns).

    The diagonal (the true class itself) is NaN: what remains is how much
    the teacher credits each wrong class, its "dark knowledge".
    """
    mean = pd.DataFrame(softmax(logits, temperature)).groupby(np.asarray(labels)).mean()
    mean.index.name, mean.columns.name = "true digit", "also credited"
    return mean.where(~np.eye(len(mean), dtype=bool))


def plot_class_similarity(logits, labels, temperature):
    fig, ax = figure(5.2)
    sns.heatmap(class_similarity(logits, labels, temperature), annot=True, fmt=".2f", cmap="viridis", ax=ax,
                cbar_kws=dict(label=f"mean softmax(z / {temperature})"))
    ax.set(xlabel="class the teacher also considers", ylabel="true digit",
           title=f"Dark knowledge: mean softmax(z / {temperature}), true class omitted")
    return ax


def plot_sweep(table: pd.DataFrame, x: str, method_labels: dict, log_x=False, ylim=None):
    """Test accuracy against ``x`` per method: every run as a dot, the seed mean as a line,
    and the original's published points as crosses."""
    fig, ax = figure(4.0)
    _methods_plot(ax, table, x, method_labels)
    ax.scatter(original.SWEEP[x], original.SWEEP.test_accuracy, marker="x", s=50, color="black",
               label="original (one run each)", zorder=5)
    ax.set(ylabel="test accuracy", xlabel=x.replace("_", " "), ylim=ylim)
    if log_x:
        ax.set_xscale("log")
    ax.legend(fontsize="small")
    return ax


def plot_accuracy_by_seed(table: pd.DataFrame, size="params"):
    """acc(size) for each single run, one panel per method: the object the original looked at."""
    methods = table.method_label.unique()
    grid = sns.relplot(data=table, x=size, y="test_accuracy", hue="seed", col="method_label",
                       kind="line", marker="o", palette="deep", height=WIDTH / len(methods) * 1.1,
                       aspect=0.9, facet_kws=dict(sharey=False))
    grid.set(xscale="log")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("parameters", "test accuracy")
    return grid


def plot_s_of_f(table: pd.DataFrame, method_labels: dict, fs=None):
    """The empirical s(f) as a step function, pooled over seeds (thick) and per seed (thin)."""
    fs = np.linspace(0.0, 1.0, 1001) if fs is None else fs
    fig, ax = figure(4.0)
    for method, label in method_labels.items():
        runs = table[table.method == method]
        colour, _ = method_style(method)
        ax.step(fs, s_of_f(runs, fs), where="post", color=colour, lw=2.5, label=label)
        for _, one_seed in runs.groupby("seed"):
            ax.step(fs, s_of_f(one_seed, fs), where="post", color=colour, lw=0.8, alpha=0.5)
    ax.set(yscale="log", xlabel="accuracy level f", ylabel="s(f): smallest model reaching f",
           xlim=(0.5, 1.0))
    ax.legend()
    return ax


def plot_frontier(table: pd.DataFrame, method_labels: dict):
    """Every run as a point, and the Pareto frontier over all of them."""
    fig, ax = figure(4.0)
    for method, label in method_labels.items():
        runs = table[table.method == method]
        colour, marker = method_style(method)
        ax.scatter(runs.params, runs.test_accuracy, color=colour, marker=marker, s=22, alpha=0.6, label=label)
    front = pareto_frontier(table)
    ax.step(front.params, front.test_accuracy, where="post", color="black", lw=1.5,
            label="Pareto frontier")
    ax.set(xscale="log", xlabel="parameters", ylabel="test accuracy")
    ax.legend(fontsize="small")
    return ax


def plot_kd_grid(grid: pd.DataFrame):
    """Held-out accuracy for every (T, alpha), one panel per hidden size: the mean over
    seeds as the colour (one scale for all panels) and as the number, the seed SD below it."""
    sizes = sorted(grid.k.unique())
    stats = grid.groupby(["k", "alpha", "temperature"]).holdout_accuracy.agg(["mean", "std"])
    lowest, highest = stats["mean"].min(), stats["mean"].max()
    fig, axes = figure(3.0, len(sizes), sharey=True)
    for i, (ax, k) in enumerate(zip(np.atleast_1d(axes), sizes)):
        at_k = stats.loc[k]
        means = at_k["mean"].unstack("temperature")
        labels = (at_k["mean"].map("{:.3f}".format) + "\n±" + at_k["std"].map("{:.3f}".format)).unstack("temperature")
        sns.heatmap(means, annot=labels, fmt="", cmap="viridis", vmin=lowest, vmax=highest, ax=ax,
                    cbar=i == len(sizes) - 1, annot_kws=dict(fontsize=7),
                    cbar_kws=dict(label="held-out accuracy (mean over seeds)"))
        ax.set(title=f"k = {k}", xlabel="temperature T", ylabel="α (weight of hard labels)" if i == 0 else "")
    return axes


def plot_cnn_students(table: pd.DataFrame, teacher_accuracy: float, levels=(0.98, 0.99)):
    """Test accuracy against parameters per training method: every seed a dot, the mean a line."""
    fig, ax = figure(4.0)
    _methods_plot(ax, table, "params", dict(table[["method", "method_label"]].drop_duplicates().values))
    ax.axhline(teacher_accuracy, color="black", lw=1, label="teacher (1,199,882 parameters)")
    for level in levels:
        ax.axhline(level, color="grey", lw=0.8, ls=":")
    ax.set(xscale="log", xlabel="student parameters", ylabel="test accuracy")
    ax.legend(fontsize="small")
    return ax


def plot_bias_raise(curves: pd.DataFrame, summary: pd.DataFrame, digit: int):
    """Held-out accuracy and test errors on ``digit`` against the raise of its bias, per
    method (mean over seeds), with each seed's held-out choice marked."""
    fig, (held_ax, test_ax) = figure(3.2, 2, sharex=True)
    palette = {m: method_style(m)[0] for m in curves.method.unique()}
    sns.lineplot(data=curves, x="bias_raise", y="heldout_accuracy", hue="method", errorbar=None, ax=held_ax,
                 palette=palette)
    sns.lineplot(data=curves, x="bias_raise", y="test_digit_errors", hue="method", errorbar=None,
                 ax=test_ax, legend=False, palette=palette)
    for ax in (held_ax, test_ax):
        for raise_by in summary.bias_raise:
            ax.axvline(raise_by, color="grey", lw=0.8, ls=":")
    held_ax.set(xlabel=f"raise of the {digit}'s bias", ylabel="held-out accuracy (chooses)",
                title="held-out training images")
    test_ax.set(xlabel=f"raise of the {digit}'s bias", ylabel=f"test {digit}s misclassified (reports)",
                title="test set", yscale="symlog", ylim=(0, 2000))  # symlog: from all wrong down to none
    return held_ax, test_ax
