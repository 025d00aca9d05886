"""The attention map of one translation as a PNG (matplotlib, the ``text`` extra)."""

from __future__ import annotations


def plot_attention(path, source_text, output_text, alphas) -> None:
    """Write alpha<t, t'> (host array (T_y, >= T_x)) as a heat map: input characters t'
    across, output characters t down."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(alphas[:, :len(source_text)], cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(source_text)), list(source_text))
    ax.set_yticks(range(len(output_text)), list(output_text))
    ax.set_xlabel("input characters t'")
    ax.set_ylabel("output characters t")
    ax.set_title("attention alpha<t, t'>")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
