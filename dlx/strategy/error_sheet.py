"""The course's error-analysis spreadsheet: one row per misclassified dev example, one
column per tag, the share of errors each tag explains and the ceiling on improvement.

    sheet = error_sheet(y_dev, model.predict(X_dev), tags=lambda i, t, p: ["blurry"] ...)
    sheet.to_csv("errors.csv")        # edit the tag columns by hand (1 = applies) ...
    sheet = read_error_sheet("errors.csv", n_dev=len(y_dev)); print(sheet)

If a tag covers a share s of the errors, fixing every such error lowers the dev error
e to at most e (1 - s): the ceiling ``e s`` says whether a fix is worth the work. The
``incorrectly_labelled`` column is the tag for wrong dev labels (fix those only when they
make up a large share of the errors).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from dlx.errors import ConfigError, ShapeError

FIXED = ("index", "true", "predicted")
MISLABELLED = "incorrectly_labelled"
TRUE = {"1", "x", "yes", "y", "true"}


@dataclass
class ErrorSheet:
    rows: list  # dicts: index, true, predicted, one 0/1 entry per tag, comment
    tags: list
    n_dev: int
    columns: list = field(default_factory=list)

    @property
    def dev_error(self) -> float:
        return len(self.rows) / self.n_dev if self.n_dev else 0.0

    def summary(self) -> list[tuple[str, int, float, float]]:
        """(tag, errors with it, share of errors, ceiling on dev-error reduction), largest
        share first."""
        n = len(self.rows)
        out = []
        for tag in self.tags:
            count = sum(int(row[tag]) for row in self.rows)
            share = count / n if n else 0.0
            out.append((tag, count, share, share * self.dev_error))
        return sorted(out, key=lambda r: r[1], reverse=True)

    def to_csv(self, path) -> Path:
        path = Path(path)
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=[*FIXED, *self.tags, "comment"])
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: row.get(k, "") for k in writer.fieldnames})
        return path

    def __str__(self) -> str:
        width = max([len(t) for t in self.tags] + [12])
        head = f"{'index':>6} {'true':>5} {'pred':>5} " + " ".join(f"{t[:width]:>{width}}"
                                                                   for t in self.tags)
        lines = [head]
        for row in self.rows:
            marks = " ".join(f"{'x' if int(row[t]) else '':>{width}}" for t in self.tags)
            lines.append(f"{row['index']:>6} {row['true']:>5} {row['predicted']:>5} {marks}")
        lines.append(f"{len(self.rows)} errors of {self.n_dev} dev examples "
                     f"(dev error {self.dev_error:.2%})")
        for tag, count, share, ceiling in self.summary():
            lines.append(f"  {tag:<{width}} {count:>5}  {share:6.1%} of errors  ceiling: dev "
                         f"error {self.dev_error:.2%} -> {self.dev_error - ceiling:.2%}")
        return "\n".join(lines)


def error_sheet(y_true, y_pred, tags=None, tag_names=(), indices=None) -> ErrorSheet:
    """The sheet of the examples where ``y_pred`` != ``y_true`` (host or device labels).

    tags: None, or ``tags(index, true, predicted) -> iterable of tag names`` for each
    misclassified example; ``tag_names`` fixes the column order (more are added as they
    appear); ``indices`` names the examples (default 0..m-1).
    """
    from dlx import backends

    t = [int(v) for v in backends.backend_of(y_true).to_host(y_true).reshape(-1)] \
        if hasattr(y_true, "shape") else [int(v) for v in y_true]
    p = [int(v) for v in backends.backend_of(y_pred).to_host(y_pred).reshape(-1)] \
        if hasattr(y_pred, "shape") else [int(v) for v in y_pred]
    if len(t) != len(p):
        raise ShapeError(f"error_sheet: {len(t)} labels but {len(p)} predictions")
    names = list(indices) if indices is not None else list(range(len(t)))
    columns = list(tag_names)
    rows = []
    for i, (ti, pi) in enumerate(zip(t, p)):
        if ti == pi:
            continue
        applied = set(tags(names[i], ti, pi)) if tags is not None else set()
        columns += [tag for tag in sorted(applied) if tag not in columns]
        rows.append({"index": names[i], "true": ti, "predicted": pi, "applied": applied})
    if MISLABELLED not in columns:
        columns.append(MISLABELLED)
    for row in rows:
        applied = row.pop("applied")
        row.update({tag: int(tag in applied) for tag in columns})
        row["comment"] = ""
    return ErrorSheet(rows, columns, len(t))


def read_error_sheet(path, n_dev: int) -> ErrorSheet:
    """An edited sheet back from CSV: every column besides index/true/predicted/comment is a
    tag; a cell of 1, x, yes or true marks it."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in FIXED if c not in header]
        if missing:
            raise ConfigError(f"{path}: error sheet lacks column(s) {', '.join(missing)}")
        tags = [c for c in header if c not in FIXED and c != "comment"]
        rows = []
        for record in reader:
            row = {k: int(record[k]) for k in FIXED}
            row.update({tag: int((record.get(tag) or "").strip().lower() in TRUE)
                        for tag in tags})
            row["comment"] = record.get("comment", "")
            rows.append(row)
    return ErrorSheet(rows, tags, int(n_dev))
