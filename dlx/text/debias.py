"""The course's debiasing of word vectors (Bolukbasi et al., 2016, "Man is to Computer
Programmer as Woman is to Homemaker?").

* bias direction g: the mean of e_a - e_b over definitional pairs (a, b), e.g. (woman, man);
  ``method="pca"`` takes instead the first principal component of the centred pair vectors.
* neutralise e:  e_bias = (e . g / ||g||^2) g,  e_debiased = e - e_bias.
* equalise a pair (w1, w2):
      mu = (e_w1 + e_w2) / 2,  mu_B = (mu . g / ||g||^2) g,  mu_orth = mu - mu_B
      e_wiB = (e_wi . g / ||g||^2) g
      corrected_e_wiB = sqrt(|1 - ||mu_orth||^2|) (e_wiB - mu_B) / ||(e_wi - mu_orth) - mu_B||
      e_wi := corrected_e_wiB + mu_orth
  The two results share mu_orth and have opposite components along g, so every vector
  orthogonal to g (every neutralised word) is equally far from both. (The course divides
  by ||e_wi - mu||, not by ||e_wiB - mu_B|| as Bolukbasi et al. do, so the results have
  unit length only when e_wi - mu lies along g; dlx keeps the course's formula.)
"""

from __future__ import annotations

from dlx import backends
from dlx.errors import ConfigError


def _project(xp, e, g):
    return (e @ g) / (g @ g) * g


def bias_direction(vectors, pairs, method: str = "mean"):
    """The bias direction g (d,) from definitional ``pairs`` of words of ``vectors``
    (a :class:`dlx.text.WordVectors`)."""
    xp = backends.current().xp
    if not pairs:
        raise ConfigError("bias_direction: needs at least one definitional pair")
    if method == "mean":
        return sum(vectors[a] - vectors[b] for a, b in pairs) / len(pairs)
    if method == "pca":
        rows = []
        for a, b in pairs:
            centre = (vectors[a] + vectors[b]) / 2
            rows += [vectors[a] - centre, vectors[b] - centre]
        _, _, vt = xp.linalg.svd(xp.stack(rows), full_matrices=False)
        g = vt[0]
        # orient like the mean difference, so (woman, man) pairs point the same way
        return g if float(g @ sum(vectors[a] - vectors[b] for a, b in pairs)) >= 0 else -g
    raise ConfigError(f"bias_direction: method must be 'mean' or 'pca', got {method!r}")


def neutralize(e, g):
    """e minus its projection on g: the result has no component along g."""
    return e - _project(backends.backend_of(e).xp, e, g)


def equalize(e_w1, e_w2, g):
    """The course's equalisation of a definitional pair; returns (e_w1', e_w2')."""
    xp = backends.backend_of(e_w1).xp
    mu = (e_w1 + e_w2) / 2
    mu_b = _project(xp, mu, g)
    mu_orth = mu - mu_b
    scale = xp.sqrt(xp.abs(1 - mu_orth @ mu_orth))
    out = []
    for e in (e_w1, e_w2):
        e_b = _project(xp, e, g)
        corrected = scale * (e_b - mu_b) / xp.linalg.norm(e - mu_orth - mu_b)
        out.append(corrected + mu_orth)
    return tuple(out)
