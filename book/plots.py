"""Figures of the book. Each function draws on a new figure and returns its axes.

Introduced where first used: digits, history and confusion in chapter 1;
soft targets and class similarity in chapter 2; the sweep in chapter 5;
s(f) and the frontier in chapter 6; the CNN students in chapter 7.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from book import original
from book.frontier import pareto_frontier, s_of_f

sns.set_theme(context="notebook", style="whitegrid")


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) along the last axis, computed stably."""
    z = np.asarray(logits, dtype="float64") / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def show_digits(images, labels, n=16, title=None):
    fig, axes = plt.subplots(2, n // 2, figsize=(n * 0.7, 3))
    for ax, image, label in zip(axes.flat, images, labels):
        ax.imshow(np.squeeze(image), cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes


def plot_history(history: dict):
    """Loss and accuracy per epoch, training set against test set."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key, name in ((loss_ax, "loss", "cross-entropy"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, history[key], "o-", label="training (dropout on)")
        ax.plot(epochs, history[f"val_{key}"], "s-", label="test")
        ax.set(xlabel="epoch", ylabel=name)
        ax.legend()
    fig.tight_layout()
    return loss_ax, acc_ax


def plot_confusion(labels, predictions):
    """Counts of (true, predicted) pairs, with the diagonal left blank to show the errors."""
    counts = pd.crosstab(
        pd.Series(labels, name="true digit"), pd.Series(predictions, name="predicted digit")
    )
    errors = counts.where(~np.eye(len(counts), dtype=bool))
    fig, ax = plt.subplots(figsize=(6, 5))
    sns.heatmap(errors, annot=True, fmt=".0f", cmap="Reds", cbar=False, ax=ax,
                linewidths=0.5, linecolor="0.9")
    ax.set_title("Test errors by true and predicted digit (diagonal omitted)")
    return ax


def plot_soft_targets(logits: np.ndarray, temperatures, title=None):
    """One image's softmax(z / T) for several temperatures T, on a log axis."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
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
    fig, ax = plt.subplots(figsize=(6.5, 5))
    sns.heatmap(class_similarity(logits, labels, temperature), annot=True, fmt=".2f", cmap="viridis", ax=ax, cbar=False)
    ax.set(xlabel="class the teacher also considers", ylabel="true digit",
           title=f"Dark knowledge: mean softmax(z / {temperature}), true class omitted")
    return ax


def plot_sweep(table: pd.DataFrame, x: str, method_labels: dict, log_x=False):
    """Test accuracy against ``x`` per method: every run as a dot, the seed mean as a line,
    and the original's published points as crosses."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sns.lineplot(data=table, x=x, y="test_accuracy", hue="method_label", estimator="mean",
                 errorbar=None, marker="o", ax=ax, hue_order=list(method_labels.values()))
    sns.scatterplot(data=table, x=x, y="test_accuracy", hue="method_label", ax=ax, legend=False,
                    alpha=0.45, s=18, hue_order=list(method_labels.values()))
    ax.scatter(original.SWEEP[x], original.SWEEP.test_accuracy, marker="x", s=60, color="black",
               label="original (one run each)", zorder=5)
    ax.set(ylabel="test accuracy", xlabel=x.replace("_", " "))
    if log_x:
        ax.set_xscale("log")
    ax.legend(title=None)
    return ax


def plot_accuracy_by_seed(table: pd.DataFrame, size="params"):
    """acc(size) for each single run, one panel per method: the object the original looked at."""
    grid = sns.relplot(data=table, x=size, y="test_accuracy", hue="seed", col="method_label",
                       kind="line", marker="o", palette="deep", height=3.5, aspect=1.2)
    grid.set(xscale="log")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("parameters", "test accuracy")
    return grid


def plot_s_of_f(table: pd.DataFrame, method_labels: dict, fs=None):
    """The empirical s(f) as a step function, pooled over seeds (thick) and per seed (thin)."""
    fs = np.linspace(0.0, 1.0, 1001) if fs is None else fs
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = dict(zip(method_labels, sns.color_palette()))
    for method, label in method_labels.items():
        runs = table[table.method == method]
        ax.step(fs, s_of_f(runs, fs), where="post", color=colors[method], lw=2.5, label=label)
        for _, one_seed in runs.groupby("seed"):
            ax.step(fs, s_of_f(one_seed, fs), where="post", color=colors[method], lw=0.8, alpha=0.5)
    ax.set(yscale="log", xlabel="accuracy level f", ylabel="s(f): smallest model reaching f",
           xlim=(0.5, 1.0))
    ax.legend()
    return ax


def plot_frontier(table: pd.DataFrame, method_labels: dict):
    """Every run as a point, and the Pareto frontier over all of them."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sns.scatterplot(data=table, x="params", y="test_accuracy", hue="method_label", ax=ax,
                    hue_order=list(method_labels.values()), alpha=0.6)
    front = pareto_frontier(table)
    ax.step(front.params, front.test_accuracy, where="post", color="black", lw=1.5,
            label="Pareto frontier")
    ax.set(xscale="log", xlabel="parameters", ylabel="test accuracy")
    ax.legend()
    return ax


def plot_kd_grid(grid: pd.DataFrame):
    """Held-out accuracy (mean over seeds) for every (T, alpha), one panel per hidden size."""
    sizes = sorted(grid.k.unique())
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.4), sharey=True)
    for ax, k in zip(np.atleast_1d(axes), sizes):
        means = grid[grid.k == k].pivot_table(index="alpha", columns="temperature",
                                              values="holdout_accuracy", aggfunc="mean")
        sns.heatmap(means, annot=True, fmt=".3f", cmap="viridis", cbar=False, ax=ax)
        ax.set(title=f"k = {k}", xlabel="temperature T", ylabel="α (weight of hard labels)")
    fig.tight_layout()
    return axes


def plot_cnn_students(table: pd.DataFrame, teacher_accuracy: float, levels=(0.98, 0.99)):
    """Test accuracy against parameters per training method: every seed a dot, the mean a line."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sns.lineplot(data=table, x="params", y="test_accuracy", hue="method_label", estimator="mean",
                 errorbar=None, marker="o", ax=ax)
    sns.scatterplot(data=table, x="params", y="test_accuracy", hue="method_label", ax=ax, legend=False,
                    alpha=0.45, s=18)
    ax.axhline(teacher_accuracy, color="black", lw=1, label="teacher (1,199,882 parameters)")
    for level in levels:
        ax.axhline(level, color="grey", lw=0.8, ls=":")
    ax.set(xscale="log", xlabel="student parameters", ylabel="test accuracy")
    ax.legend(title=None)
    return ax


def plot_bias_raise(curves: pd.DataFrame, summary: pd.DataFrame, digit: int):
    """Held-out accuracy and test errors on ``digit`` against the raise of its bias, per
    method (mean over seeds), with each seed's held-out choice marked."""
    fig, (held_ax, test_ax) = plt.subplots(1, 2, figsize=(11, 3.8), sharex=True)
    sns.lineplot(data=curves, x="bias_raise", y="heldout_accuracy", hue="method", errorbar=None, ax=held_ax)
    sns.lineplot(data=curves, x="bias_raise", y="test_digit_errors", hue="method", errorbar=None,
                 ax=test_ax, legend=False)
    for ax in (held_ax, test_ax):
        for raise_by in summary.bias_raise:
            ax.axvline(raise_by, color="grey", lw=0.8, ls=":")
    held_ax.set(xlabel=f"raise of the {digit}'s bias", ylabel="held-out accuracy (chooses)",
                title="held-out training images")
    test_ax.set(xlabel=f"raise of the {digit}'s bias", ylabel=f"test {digit}s misclassified (reports)",
                title="test set", yscale="symlog", ylim=(0, 2000))  # symlog: from all wrong down to none
    fig.tight_layout()
    return held_ax, test_ax
