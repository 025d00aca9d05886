"""``dlx style CONTENT STYLE -o out.png``: neural style transfer from the command line.

CONTENT and STYLE are image files (PNG/JPEG) or the names of scikit-learn's sample
photographs (``china``, ``flower``). Writes the generated image, and next to it the cost
curve (``out_costs.png``) and the costs as JSON (``out_costs.json``).
"""

from __future__ import annotations

import json


def add_parser(subparsers, common):
    p = subparsers.add_parser("style", parents=[common],
                              help="neural style transfer: paint CONTENT in the style of STYLE",
                              description=__doc__.splitlines()[0])
    p.add_argument("content", help="image file or sample name (china, flower)")
    p.add_argument("style", help="image file or sample name (china, flower)")
    p.add_argument("-o", "--output", default="style.png", help="output PNG (default style.png)")
    p.add_argument("--size", type=int, default=64, help="shorter image side in pixels (64)")
    p.add_argument("--steps", type=int, default=200, help="Adam steps on the image (200)")
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--alpha", type=float, default=1.0, help="content weight")
    p.add_argument("--beta", type=float, default=10.0, help="style weight")
    p.add_argument("--content-layer", type=int, default=2)
    p.add_argument("--weights", help="VGG-style .npz (conv0.W, conv0.b, ...) instead of the "
                   "random-filter network")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default=None, help="numpy, emulated, cupy or auto")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_style)


def _progress_bar(total, enabled):
    if not enabled:
        return None, lambda: None
    try:
        from tqdm import tqdm
    except ImportError:
        return (lambda step, rec: print(f"step {step}/{total} cost {rec['cost']:.4g}")
                if step % 50 == 0 else None), lambda: None
    bar = tqdm(total=total, desc="style", unit="step")

    def advance(step, record):
        if step:
            bar.update(1)
            bar.set_postfix(cost=f"{record['cost']:.4g}")

    return advance, bar.close


def _plot_costs(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    steps = [h["step"] for h in history]
    for key, label in (("cost", "J (minimised)"), ("content", "J_content"),
                       ("style", "J_style (course)")):
        ax.semilogy(steps, [max(h[key], 1e-30) for h in history], label=label)
    ax.set_xlabel("Adam step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cmd_style(args) -> int:
    from dlx import backends
    from dlx.data.images import center_square, load_image, save_image
    from dlx.vision.style import FeatureNet, StyleTransfer

    backend = backends.set_backend(args.backend) if args.backend else backends.current()
    content = load_image(args.content, args.size)
    style = load_image(args.style, args.size)
    content, style = center_square(content), center_square(style)
    features = FeatureNet.from_npz(args.weights) if args.weights else \
        FeatureNet.random(seed=args.seed)
    transfer = StyleTransfer(features, content_layer=args.content_layer, alpha=args.alpha,
                             beta=args.beta)
    progress, close = _progress_bar(args.steps, not args.no_progress)
    try:
        image, history = transfer.run(content, style, steps=args.steps, lr=args.lr,
                                      seed=args.seed, progress=progress)
    finally:
        close()
    out = save_image(args.output, backend.to_host(image))
    stem = out.with_name(out.stem + "_costs")
    _plot_costs(history, stem.with_suffix(".png"))
    stem.with_suffix(".json").write_text(json.dumps(history))
    first, last = history[0], history[-1]
    yardstick = transfer.content_distance(content, style)
    print(f"wrote {out} ({image.shape[1]}x{image.shape[2]}); style cost {first['style']:.4g} "
          f"-> {last['style']:.4g} ({first['style'] / max(last['style'], 1e-30):.1f}x lower), "
          f"content cost {first['content']:.4g} -> {last['content']:.4g} "
          f"({last['content'] / yardstick:.1%} of the style image's own content cost "
          f"{yardstick:.4g}); cost curve {stem.with_suffix('.png')}")
    return 0
